/**
 * FHIR R4 RESTful API semantics with no HTTP in it (https://hl7.org/fhir/R4/http.html): the HTTP layer builds a
 * FhirRequest, calls `handleFhirRequest`, and serialises the FhirResponse (status from `outcomeStatus`; when
 * `resource` is undefined the outcome itself is the body, or none for 204-like answers).
 */
import type { Resource } from '@medplum/fhirtypes';
import { checkAccess, scopeAllows, type Interaction } from './access.ts';
import { processBundle } from './bundle.ts';
import { buildCapabilityStatement } from './capability.ts';
import type { FhirRequest, FhirResponse, RequestContext } from './context.ts';
import { r4 } from './definitions.ts';
import { allOk, badRequest, created, fail, notFoundText, notSupported, OperationOutcomeError, toOutcome } from './outcomes.ts';
import type { WriteOutcome } from './repository.ts';
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
  const writeCtx = { institutionId: ctx.actor.institutionId };

  if (!type) {
    if (req.method === 'POST') return { outcome: allOk, resource: await processBundle(req.body, ctx, services, handleFhirRequest) };
    fail(badRequest('Whole-system search is not supported; POST a batch or transaction Bundle to the base'));
  }
  if (type === 'metadata' && req.method === 'GET') return { outcome: allOk, resource: buildCapabilityStatement(ctx.baseUrl, services) };
  if (type === '_history' && req.method === 'GET') {
    await guard('history-system', '*');
    return { outcome: allOk, resource: await repo.history(undefined, undefined, req.query, ctx.baseUrl) };
  }
  const op = [type, id, sub].find((s) => s?.startsWith('$'));
  if (op) return operation(req, ctx, services, parts);
  if (!r4().resourceTypes.has(type)) fail(notFoundText(`Unknown resource type "${type}"`));

  if (id === undefined) {
    switch (req.method) {
      case 'GET':
        await guard('search-type', type);
        return { outcome: allOk, resource: await repo.search(type, req.query, searchOpts(req, ctx, services)) };
      case 'POST': {
        await guard('create', type, { resource: req.body });
        return written(ctx, await repo.create(writeCtx, req.body, { resourceType: type, ifNoneExist: req.headers['if-none-exist'] }), req.headers.prefer);
      }
      case 'PUT': {
        if (!req.query.length) fail(badRequest('PUT needs an id or a conditional query'));
        await guard('update', type, { resource: req.body });
        return written(ctx, await repo.conditionalUpdate(writeCtx, type, new URLSearchParams(req.query).toString(), req.body), req.headers.prefer);
      }
      case 'DELETE': {
        if (!req.query.length) fail(badRequest('DELETE needs an id or a conditional query'));
        await guard('delete', type);
        const match = await repo.db.transaction((tx) => repo.conditionalMatch(tx, type, new URLSearchParams(req.query).toString()));
        if (match) await repo.delete(writeCtx, type, match);
        return { outcome: allOk };
      }
      default:
        fail(notSupported(`${req.method} ${type} is not supported`));
    }
  }
  if (id === '_search' && req.method === 'POST') {
    const query = [...req.query, ...formParams(req.body)];
    await guard('search-type', type, { query });
    return { outcome: allOk, resource: await repo.search(type, query, searchOpts(req, ctx, services)) };
  }
  if (id === '_history' && req.method === 'GET') {
    await guard('history-type', type);
    return { outcome: allOk, resource: await repo.history(type, undefined, req.query, ctx.baseUrl) };
  }
  if (sub === '_history' && req.method === 'GET') {
    if (vid === undefined) {
      await guard('history-instance', type, { id });
      return { outcome: allOk, resource: await repo.history(type, id, req.query, ctx.baseUrl) };
    }
    await guard('vread', type, { id });
    return found(await repo.vread(type, id, vid));
  }
  if (sub !== undefined) fail(notFoundText(`Unknown path ${req.path}`));
  switch (req.method) {
    case 'GET':
      await guard('read', type, { id });
      return found(await repo.read(type, id));
    case 'PUT':
      await guard('update', type, { id, resource: req.body });
      return written(ctx, await repo.update(writeCtx, type, id, req.body, { ifMatch: req.headers['if-match'] }), req.headers.prefer);
    case 'DELETE':
      await guard('delete', type, { id });
      await repo.delete(writeCtx, type, id);
      return { outcome: allOk };
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
