import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authorize } from '../auth/index.ts';
import type { Actor, FhirRequest, FhirResponse } from '../fhir/context.ts';
import { authenticate } from './authenticate.ts';
import type { AppDeps } from './deps.ts';
import { HttpError } from './errors.ts';
import { captureRawBody, landThenHandle } from './ingest-fhir-hook.ts';

export const FHIR_CONTENT_TYPE = 'application/fhir+json; charset=utf-8';
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** Path below `/fhir`, percent-decoded per segment, without leading or trailing slash. */
export function fhirPath(url: string): string {
  const path = url.split('?')[0].replace(/^\/fhir\/?/, '');
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent).join('/');
  } catch {
    throw new HttpError('bad-request', 'malformed percent-encoding in the URL');
  }
}

/** Query parameters in order with repeats kept (FHIR search combines repeated parameters with AND). */
export function fhirQuery(url: string): Array<[string, string]> {
  const i = url.indexOf('?');
  return i < 0 ? [] : [...new URLSearchParams(url.slice(i + 1))];
}

export function baseUrlOf(deps: AppDeps, request: FastifyRequest): string {
  return (deps.config.publicUrl ?? `${request.protocol}://${request.host}`) + '/fhir';
}

function toFhirRequest(request: FastifyRequest): FhirRequest {
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  if (!METHODS.has(method)) throw new HttpError('method-not-allowed', `${request.method} is not a FHIR interaction`);
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return { method: method as FhirRequest['method'], path: fhirPath(request.url), query: fhirQuery(request.url), body: request.body, headers };
}

/**
 * The purpose of use a request declares (v3-ActReason, e.g. ETREAT for break-the-glass) and its stated reason, from
 * the `X-Purpose-Of-Use` and `X-Break-Glass-Reason` headers — the FHIR API's form of the record API's
 * `{purposeOfUse, reason}` body. The reason is percent-encoded UTF-8 (header values are Latin-1). The access decision
 * grants break-the-glass only with a reason, flags it for review and writes the reason into the AuditEvent.
 */
export function withDeclaredPurpose(actor: Actor, headers: Record<string, string | undefined>): Actor {
  const purpose = headers['x-purpose-of-use']?.trim();
  if (!purpose) return actor;
  if (!/^[A-Za-z]{2,20}$/.test(purpose)) throw new HttpError('bad-request', 'X-Purpose-Of-Use must be a v3-ActReason code such as TREAT or ETREAT');
  let reason: string | undefined;
  try {
    reason = headers['x-break-glass-reason'] ? decodeURIComponent(headers['x-break-glass-reason']).trim() || undefined : undefined;
  } catch {
    throw new HttpError('bad-request', 'X-Break-Glass-Reason must be percent-encoded UTF-8');
  }
  return { ...actor, purposeOfUse: purpose.toUpperCase(), purposeReason: reason };
}

function send(reply: FastifyReply, status: number, body: unknown, headers: Record<string, string> = {}): FastifyReply {
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(status).type(FHIR_CONTENT_TYPE).send(JSON.stringify(body));
}

/**
 * The FHIR REST API (https://hl7.org/fhir/R4/http.html) as one catch-all: build a FhirRequest, authenticate, run the
 * access policies, call the FHIR router, serialise. Only `GET /fhir/metadata` is anonymous (the CapabilityStatement).
 */
export function fhirRoutes(app: FastifyInstance, deps: AppDeps): void {
  // POST Type/_search sends its parameters as a form: keep the raw text so repeated parameters survive.
  app.removeContentTypeParser('application/x-www-form-urlencoded');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, String(body)));
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const req = toFhirRequest(request);
    const baseUrl = baseUrlOf(deps, request);
    if (req.method === 'GET' && req.path === 'metadata') {
      return send(reply, 200, await deps.fhir.capabilityStatement(baseUrl));
    }
    const actor = withDeclaredPurpose(await authenticate(deps, request), req.headers);
    const denial = await authorize(deps.accessPolicies, actor, req);
    // A denial is 403 unless its outcome names another status (401 for a rule that wants re-authentication).
    if (denial) return send(reply, deps.fhir.status(denial) === 400 ? 403 : deps.fhir.status(denial), denial);
    // Ingestion (issue 4): an institution's transaction/batch Bundle lands verbatim before it is processed.
    const res: FhirResponse = await landThenHandle(deps, request, actor, req, (r) => deps.fhir.handle(r, { actor, baseUrl, requestId: request.id }));
    return send(reply, deps.fhir.status(res.outcome), res.resource ?? res.outcome, res.headers);
  };
  captureRawBody(app); // ingestion: keeps a posted Bundle's original bytes for the landing store
  // '/fhir' and '/fhir/' both name the base (real clients post Bundles to either).
  app.all('/fhir', handler);
  app.all('/fhir/*', handler);
}
