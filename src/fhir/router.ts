/**
 * FHIR R4 RESTful API semantics with no HTTP in it (https://hl7.org/fhir/R4/http.html): the HTTP layer builds a
 * FhirRequest, calls `handleFhirRequest`, and serialises the FhirResponse (status from `outcomeStatus`; when
 * `resource` is undefined the outcome itself is the body, or none for 204-like answers).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Bundle } from '@medplum/fhirtypes';
import { checkAccess, scopeAllows, type AccessGrant, type Interaction } from './access.ts';
import { processBundle } from './bundle.ts';
import { buildCapabilityStatement } from './capability.ts';
import type { FhirRequest, FhirResponse, RequestContext } from './context.ts';
import { r4 } from './definitions.ts';
import { allOk, badRequest, created, fail, notFoundText, notSupported, OperationOutcomeError, toOutcome } from './outcomes.ts';
import type { WriteOutcome } from './repository.ts';
import type { WriteResult } from './write.ts';
import type { FhirServices } from './services.ts';

/** Answers one FHIR request; never throws (every error becomes an OperationOutcome response). */
export async function handleFhirRequest(req: FhirRequest, ctx: RequestContext, services: FhirServices): Promise<FhirResponse> {
  try {
    return await route(req, ctx, services);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) services.onError?.(err, req);
    return { outcome: toOutcome(err) };
  }
}

async function route(req: FhirRequest, ctx: RequestContext, services: FhirServices): Promise<FhirResponse> {
  const { repo } = services;
  const parts = req.path.replace(/^\/+|\/+$/g, '').split('/').filter(Boolean);
  const [type, id, sub, vid] = parts;
  if (parts.length > 4) fail(notFoundText(`Unknown path ${req.path}`));
  const guard = (interaction: Interaction, resourceType: string, extra: { id?: string; resource?: unknown; query?: Array<[string, string]> } = {}) =>
    checkAccess(ctx, { interaction, resourceType, query: req.query, ...extra }, services.accessRules);
  const writeCtx = (g: AccessGrant) => ({ institutionId: ctx.actor.institutionId, as: g.writeAs });
  // What the access decision asked for after the fact: the audit (and masking) of results, the audit of writes.
  const result = async (g: AccessGrant, b: Bundle) => ({ outcome: allOk, resource: g.onResult ? await g.onResult(b) : b });
  const audited = async (g: AccessGrant, w: WriteOutcome | WriteResult) => {
    if (w.written) await g.onWritten?.([w.written]);
  };

  if (!type) {
    if (req.method === 'POST') return { outcome: allOk, resource: await processBundle(req.body, ctx, services, handleFhirRequest) };
    fail(badRequest('Whole-system search is not supported; POST a batch or transaction Bundle to the base'));
  }
  if (type === 'metadata' && req.method === 'GET') return { outcome: allOk, resource: buildCapabilityStatement(ctx.baseUrl, services) };
  if (type === '_history' && req.method === 'GET') {
    const g = await guard('history-system', '*');
    return result(g, await repo.history(undefined, undefined, req.query, ctx.baseUrl, g));
  }
  const op = [type, id, sub].find((s) => s?.startsWith('$'));
  if (op) return operation(req, ctx, services, parts);
  if (!r4().resourceTypes.has(type)) fail(notFoundText(`Unknown resource type "${type}"`));

  if (id === undefined) {
    switch (req.method) {
      case 'GET': {
        const g = await guard('search-type', type);
        return result(g, await repo.search(type, req.query, { ...searchOpts(req, ctx, services), restrictInstitution: g.restrictInstitution, maxCount: g.maxCount }));
      }
      case 'POST': {
        const g = await guard('create', type, { resource: req.body });
        const w = await repo.create(writeCtx(g), req.body, { resourceType: type, ifNoneExist: req.headers['if-none-exist'] });
        await audited(g, w);
        return written(ctx, w, req.headers.prefer);
      }
      case 'PUT': {
        if (!req.query.length) fail(badRequest('PUT needs an id or a conditional query'));
        const g = await guard('update', type, { resource: req.body });
        const w = await repo.conditionalUpdate(writeCtx(g), type, new URLSearchParams(req.query).toString(), req.body);
        await audited(g, w);
        return written(ctx, w, req.headers.prefer);
      }
      case 'DELETE': {
        if (!req.query.length) fail(badRequest('DELETE needs an id or a conditional query'));
        const g = await guard('delete', type);
        const match = await repo.db.transaction((tx) => repo.conditionalMatch(tx, type, new URLSearchParams(req.query).toString()));
        if (match) await audited(g, await repo.delete(writeCtx(g), type, match));
        return { outcome: allOk };
      }
      default:
        fail(notSupported(`${req.method} ${type} is not supported`));
    }
  }
  if (id === '_search' && req.method === 'POST') {
    const query = [...req.query, ...formParams(req.body)];
    const g = await guard('search-type', type, { query });
    return result(g, await repo.search(type, query, { ...searchOpts(req, ctx, services), restrictInstitution: g.restrictInstitution, maxCount: g.maxCount }));
  }
  if (id === '_history' && req.method === 'GET') {
    const g = await guard('history-type', type);
    return result(g, await repo.history(type, undefined, req.query, ctx.baseUrl, g));
  }
  if (sub === '_history' && req.method === 'GET') {
    if (vid === undefined) {
      const g = await guard('history-instance', type, { id });
      return result(g, await repo.history(type, id, req.query, ctx.baseUrl, g));
    }
    await guard('vread', type, { id });
    return found(await repo.vread(type, id, vid));
  }
  if (sub !== undefined) fail(notFoundText(`Unknown path ${req.path}`));
  switch (req.method) {
    case 'GET':
      await guard('read', type, { id });
      return found(await repo.read(type, id));
    case 'PUT': {
      const g = await guard('update', type, { id, resource: req.body });
      const w = await repo.update(writeCtx(g), type, id, req.body, { ifMatch: req.headers['if-match'] });
      await audited(g, w);
      return written(ctx, w, req.headers.prefer);
    }
    case 'DELETE': {
      const g = await guard('delete', type, { id });
      await audited(g, await repo.delete(writeCtx(g), type, id));
      return { outcome: allOk };
    }
    default:
      fail(notSupported(`${req.method} ${type}/${id} is not supported`));
  }
}

async function operation(req: FhirRequest, ctx: RequestContext, services: FhirServices, parts: string[]): Promise<FhirResponse> {
  const at = parts.findIndex((p) => p.startsWith('$'));
  const name = parts[at].slice(1);
  const resourceType = at > 0 ? parts[0] : undefined;
  const id = at === 2 ? parts[1] : undefined;
  const reg = services.operations.get(`${resourceType ?? '*'}/$${name}`);
  if (!reg || (id && !reg.instance) || at > 2) fail(notFoundText(`Operation $${name} is not supported on ${resourceType ?? 'the system'}`));
  const interaction: Interaction = reg.access === 'write' ? 'update' : 'operation';
  await checkAccess(ctx, { interaction, resourceType: resourceType ?? '*', id }, services.accessRules);
  return reg.handler(req, ctx, services, { resourceType, id });
}

function searchOpts(req: FhirRequest, ctx: RequestContext, services: FhirServices) {
  const lenient = /handling\s*=\s*lenient/.test(req.headers.prefer ?? '');
  const canRead = (t: string) => ctxCanRead(ctx, services, t);
  return { baseUrl: ctx.baseUrl, lenient, canRead };
}

function ctxCanRead(ctx: RequestContext, _services: FhirServices, resourceType: string): boolean {
  // Scope check only: included resources the actor may not read are left out, not refused.
  return scopeAllows(ctx.actor, 'read', resourceType);
}

/** Body of POST _search: application/x-www-form-urlencoded (string), a record, or pairs. */
function formParams(body: unknown): Array<[string, string]> {
  if (body === undefined || body === null || body === '') return [];
  if (typeof body === 'string') return [...new URLSearchParams(body)];
  if (Array.isArray(body)) return body as Array<[string, string]>;
  if (typeof body === 'object') {
    return Object.entries(body as Record<string, unknown>).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, String(x)] as [string, string]) : [[k, String(v)] as [string, string]]));
  }
  fail(badRequest('Unreadable _search body'));
}

function found(resource: Resource): FhirResponse {
  return { outcome: allOk, resource, headers: versionHeaders(resource) };
}

/**
 * The answer to a create or update: Location, ETag, Last-Modified, and the body `Prefer: return=` asks for
 * (https://hl7.org/fhir/R4/http.html#ops): the resource (default), nothing (minimal), or the OperationOutcome.
 */
function written(ctx: RequestContext, w: WriteOutcome, prefer = ''): FhirResponse {
  const headers = versionHeaders(w.resource);
  headers.Location = `${ctx.baseUrl}/${w.resource.resourceType}/${w.resource.id}/_history/${w.resource.meta?.versionId}`;
  const outcome = w.created ? created : allOk;
  const ret = /return\s*=\s*(minimal|OperationOutcome|representation)/.exec(prefer)?.[1];
  if (ret === 'minimal') return { outcome, headers };
  if (ret === 'OperationOutcome') return { outcome, resource: outcome, headers };
  return { outcome, resource: w.resource, headers };
}

/** ETag and Last-Modified of a stored version (https://hl7.org/fhir/R4/http.html#versioning). */
export function versionHeaders(resource: Resource): Record<string, string> {
  const headers: Record<string, string> = {};
  if (resource.meta?.versionId) headers.ETag = `W/"${resource.meta.versionId}"`;
  if (resource.meta?.lastUpdated) headers['Last-Modified'] = new Date(resource.meta.lastUpdated).toUTCString();
  return headers;
}
