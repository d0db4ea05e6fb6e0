/**
 * batch and transaction Bundles (https://hl7.org/fhir/R4/http.html#transaction).
 * transaction: all or nothing in one database transaction; processed DELETE, POST, PUT, GET; `urn:uuid:` fullUrls
 * resolved to the assigned `Type/id` everywhere in the bundle (resources and conditional queries); conditional
 * create/update per entry, de-duplicated within the bundle, so a sender upserts idempotently and the Organization a
 * thousand bundles repeat is stored once. All writes of a bundle go to the database in a few multi-row statements.
 * batch: every entry independent, each answered with its own status or OperationOutcome.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { checkAccess, mergeGrants, type AccessGrant, type Interaction } from './access.ts';
import type { FhirRequest, FhirResponse, RequestContext } from './context.ts';
import { r4 } from './definitions.ts';
import { badRequest, fail, OperationOutcomeError, outcomeStatus, toOutcome } from './outcomes.ts';
import { parseIfMatch } from './repository.ts';
import type { FhirServices } from './services.ts';
import { validateIncoming } from './validate.ts';
import { applyWrites, type WriteOp, type WriteResult } from './write.ts';

type Handler = (req: FhirRequest, ctx: RequestContext, services: FhirServices) => Promise<FhirResponse>;

interface Entry {
  index: number;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  type: string;
  id?: string;
  query?: string;
  fullUrl?: string;
  resource?: Resource;
  ifNoneExist?: string;
  ifMatch?: string;
  /** Resolved target id (for writes). */
  targetId?: string;
  /** Conditional create that matched an existing resource (or an earlier entry of the same bundle). */
  matched?: boolean;
  /** Conditional delete that matched nothing. */
  skip?: boolean;
  result?: WriteResult;
  /** What the access rules granted this entry (its write's audit). */
  grant?: AccessGrant;
}

const ORDER = { DELETE: 0, POST: 1, PUT: 2, GET: 3 } as const;

/** Processes a Bundle posted to the base; returns the batch-response / transaction-response Bundle. */
export async function processBundle(body: unknown, ctx: RequestContext, services: FhirServices, handle: Handler): Promise<Bundle> {
  const bundle = body as Bundle | undefined;
  if (!bundle || typeof bundle !== 'object' || bundle.resourceType !== 'Bundle') fail(badRequest('Expected a Bundle', 'resourceType'));
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') fail(badRequest(`Bundle.type must be batch or transaction, not ${bundle.type}`, 'Bundle.type'));
  const entries = bundle.entry ?? [];
  if (bundle.type === 'batch') return batch(entries, ctx, services, handle);
  return transaction(entries.map(parseEntry), ctx, services, handle);
}

async function batch(entries: BundleEntry[], ctx: RequestContext, services: FhirServices, handle: Handler): Promise<Bundle> {
  const out: BundleEntry[] = [];
  for (const [i, e] of entries.entries()) {
    let res: FhirResponse;
    try {
      const parsed = parseEntry(e, i);
      const [path, query] = splitUrl(parsed.url);
      res = await handle(
        { method: parsed.method, path, query, body: parsed.resource, headers: { 'if-match': parsed.ifMatch, 'if-none-exist': parsed.ifNoneExist } },
        ctx,
        services,
      );
    } catch (err) {
      res = { outcome: toOutcome(err) };
    }
    out.push(responseEntry(ctx, res.outcome, res.resource));
  }
  return { resourceType: 'Bundle', type: 'batch-response', entry: out };
}

async function transaction(entries: Entry[], ctx: RequestContext, services: FhirServices, handle: Handler): Promise<Bundle> {
  const interaction: Record<Entry['method'], Interaction> = { GET: 'read', POST: 'create', PUT: 'update', DELETE: 'delete' };
  for (const e of entries) e.grant = await checkAccess(ctx, { interaction: interaction[e.method], resourceType: e.type, id: e.id, resource: e.resource }, services.accessRules);
  // Every write entry's stored-row check runs on every row the transaction replaces (conditional targets included).
  const grant = mergeGrants(entries.flatMap((e) => (e.method !== 'GET' && e.grant ? [{ writeAs: e.grant.writeAs }] : [])));
  const fullUrls = new Set<string>();
  for (const e of entries) {
    if (!e.fullUrl) continue;
    if (fullUrls.has(e.fullUrl)) fail(badRequest(`fullUrl ${e.fullUrl} appears twice`, `Bundle.entry[${e.index}].fullUrl`));
    fullUrls.add(e.fullUrl);
  }
  const ordered = [...entries].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index);
  const repo = services.repo;
  await repo.db.transaction(async (tx) => {
    const urn = new Map<string, string>();
    const conditional = new Map<string, string | undefined>();
    // Conditions that name no other entry's fullUrl do not depend on this bundle: resolve them in one round trip.
    const independent = new Map<string, { resourceType: string; query: string }>();
    for (const e of ordered) {
      const q = e.method === 'POST' ? e.ifNoneExist : e.method === 'GET' ? undefined : e.query;
      if (q !== undefined && ![...new URLSearchParams(q).values()].some((v) => fullUrls.has(v))) {
        independent.set(`${e.type}?${q}`, { resourceType: e.type, query: q });
      }
    }
    const prefetched = await repo.conditionalMatchMany(tx, [...independent.values()]);
    [...independent.keys()].forEach((key, i) => conditional.set(key, prefetched[i]));
    const match = async (type: string, query: string): Promise<string | undefined> => {
      const q = substitute(query, urn);
      const key = `${type}?${q}`;
      if (conditional.has(key)) return conditional.get(key);
      const found = await repo.conditionalMatch(tx, type, q);
      conditional.set(key, found);
      return found;
    };
    // Resolve every entry's target id. A condition naming another entry's fullUrl waits until that entry is resolved
    // (a POST Observation?subject=urn:uuid:p waits for the PUT Patient?identifier=… that defines urn:uuid:p).
    const waitsFor = (e: Entry): boolean => {
      const q = e.method === 'POST' ? e.ifNoneExist : e.query;
      return q !== undefined && [...new URLSearchParams(q).values()].some((v) => fullUrls.has(v) && !urn.has(v) && v !== e.fullUrl);
    };
    let pending = ordered.filter((e) => e.method !== 'GET');
    while (pending.length) {
      const ready = pending.filter((e) => !waitsFor(e));
      if (!ready.length) fail(badRequest('Conditional references between entries form a cycle', `Bundle.entry[${pending[0].index}]`));
      for (const e of ready) await resolveTarget(e);
      pending = pending.filter((e) => !ready.includes(e));
    }
    async function resolveTarget(e: Entry): Promise<void> {
      if (e.method === 'DELETE') {
        e.targetId = e.query !== undefined ? await match(e.type, e.query) : e.id;
        e.skip = e.targetId === undefined;
      } else if (e.method === 'POST') {
        const existing = e.ifNoneExist ? await match(e.type, e.ifNoneExist) : undefined;
        e.matched = existing !== undefined;
        e.targetId = existing ?? randomUUID();
        if (e.ifNoneExist && !existing) conditional.set(`${e.type}?${substitute(e.ifNoneExist, urn)}`, e.targetId);
      } else {
        e.targetId = e.query !== undefined ? ((await match(e.type, e.query)) ?? e.resource?.id ?? randomUUID()) : e.id;
        if (e.query !== undefined) conditional.set(`${e.type}?${substitute(e.query, urn)}`, e.targetId as string);
      }
      if (e.fullUrl && e.targetId) urn.set(e.fullUrl, `${e.type}/${e.targetId}`);
    }
    const ops: WriteOp[] = [];
    const opEntries: Entry[] = [];
    const targets = new Set<string>();
    for (const e of ordered) {
      if (e.method === 'GET' || e.skip || e.matched) continue;
      const target = `${e.type}/${e.targetId}`;
      if (targets.has(target)) fail(badRequest(`${target} is the target of more than one entry`, `Bundle.entry[${e.index}]`));
      targets.add(target);
      let resource: Resource | undefined;
      if (e.resource) {
        const rewritten = rewrite(e.resource, urn) as Resource;
        resource = atEntry(e.index, () => validateIncoming(rewritten, e.type));
        if (e.method === 'PUT' && e.query === undefined && resource.id !== undefined && resource.id !== e.id) {
          fail(badRequest(`Resource id does not match the request URL`, `Bundle.entry[${e.index}].resource.id`));
        }
      }
      ops.push({
        method: e.method === 'POST' ? 'create' : e.method === 'PUT' ? 'update' : 'delete',
        resourceType: e.type, id: e.targetId as string, resource,
        ifMatch: parseIfMatch(e.ifMatch),
      });
      opEntries.push(e);
    }
    const results = await atEntryAsync(opEntries, () => applyWrites(tx, ops, repo.clock(), ctx.actor.institutionId, grant.writeAs));
    opEntries.forEach((e, i) => (e.result = results[i]));
    // Conditional creates that matched answer with the resource they matched (stored before, or earlier in this bundle).
    const written = new Map(opEntries.filter((e) => e.result?.resource).map((e) => [`${e.type}/${e.targetId}`, e.result as WriteResult]));
    for (const e of ordered) {
      if (!e.matched) continue;
      const resource = written.get(`${e.type}/${e.targetId}`)?.resource ?? (await repo.read(e.type, e.targetId as string, tx));
      e.result = { resource, status: 200 };
    }
  });
  // Audited together: the audit log commits what is queued at once.
  await Promise.all(entries.map((e) => (e.result?.written && !e.matched ? e.grant?.onWritten?.([e.result.written]) : undefined)));
  const out: BundleEntry[] = [];
  for (const e of entries) {
    if (e.method === 'GET') {
      const [path, query] = splitUrl(e.url);
      const res = await handle({ method: 'GET', path, query, headers: {} }, ctx, services);
      out.push(responseEntry(ctx, res.outcome, res.resource));
      continue;
    }
    const r = e.result ?? { status: 204 as const };
    out.push(writeEntry(ctx, r));
  }
  return { resourceType: 'Bundle', type: 'transaction-response', entry: out };
}

function parseEntry(e: BundleEntry, index: number): Entry {
  const req = e.request;
  const where = `Bundle.entry[${index}].request`;
  if (!req?.method || !req.url) fail(badRequest('Each entry needs request.method and request.url', where));
  const method = req.method;
  if (method !== 'GET' && method !== 'POST' && method !== 'PUT' && method !== 'DELETE') fail(badRequest(`Method ${method} is not supported in a Bundle`, `${where}.method`));
  const url = req.url.replace(/^\/+/, '');
  const [path, q] = url.split('?', 2);
  const [type, id] = path.split('/');
  if (!r4().resourceTypes.has(type)) fail(badRequest(`Unknown resource type in ${req.url}`, `${where}.url`));
  if ((method === 'POST' || method === 'PUT') && !e.resource) fail(badRequest(`${method} entry without a resource`, `Bundle.entry[${index}].resource`));
  if (method === 'PUT' && !id && q === undefined) fail(badRequest('PUT needs Type/id or Type?query', `${where}.url`));
  if (method === 'DELETE' && !id && q === undefined) fail(badRequest('DELETE needs Type/id or Type?query', `${where}.url`));
  return {
    index, method, url, type, id: id || undefined, query: method === 'GET' ? undefined : q, fullUrl: e.fullUrl,
    resource: e.resource, ifNoneExist: req.ifNoneExist, ifMatch: req.ifMatch,
  };
}

function splitUrl(url: string): [string, Array<[string, string]>] {
  const [path, q] = url.replace(/^\/+/, '').split('?', 2);
  return [path, q ? [...new URLSearchParams(q)] : []];
}

/**
 * Replaces every string equal to a resolved fullUrl (a Reference.reference, usually) with its `Type/id`.
 * Copy-on-write: subtrees without a replacement are shared, not copied (this runs for every resource of a bundle).
 */
function rewrite(value: unknown, urn: Map<string, string>): unknown {
  if (typeof value === 'string') return urn.get(value) ?? value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = rewrite(value[i], urn);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  if (value && typeof value === 'object') {
    let out: Record<string, unknown> | undefined;
    for (const k in value) {
      const old = (value as Record<string, unknown>)[k];
      const v = rewrite(old, urn);
      if (v !== old) (out ??= { ...(value as Record<string, unknown>) })[k] = v;
    }
    return out ?? value;
  }
  return value;
}

/** Resolves fullUrls inside a conditional query (`Observation?subject=urn:uuid:…`). */
function substitute(query: string, urn: Map<string, string>): string {
  const pairs = [...new URLSearchParams(query)];
  if (!pairs.some(([, v]) => urn.has(v))) return query; // keep the text: it is the key of prefetched matches
  return new URLSearchParams(pairs.map(([k, v]) => [k, urn.get(v) ?? v])).toString();
}

function atEntry<T>(index: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw prefixIssues(err, `Bundle.entry[${index}].resource`);
  }
}

async function atEntryAsync<T>(entries: Entry[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    const e = entries.find((x) => err.message.includes(`${x.type}/${x.targetId}`));
    throw e ? prefixIssues(err, `Bundle.entry[${e.index}]`) : err;
  }
}

function prefixIssues(err: unknown, prefix: string): unknown {
  if (!(err instanceof OperationOutcomeError)) return err;
  const outcome: OperationOutcome = {
    ...err.outcome,
    issue: err.outcome.issue.map((i) => ({ ...i, expression: (i.expression?.length ? i.expression : ['']).map((x) => `${prefix}${x ? '.' + x : ''}`) })),
  };
  return new OperationOutcomeError(outcome);
}

function responseEntry(ctx: RequestContext, outcome: OperationOutcome, resource?: Resource): BundleEntry {
  const status = outcomeStatus(outcome);
  const ok = status < 300;
  return {
    ...(resource?.id && ok ? { fullUrl: `${ctx.baseUrl}/${resource.resourceType}/${resource.id}` } : {}),
    ...(ok && resource ? { resource } : {}),
    response: {
      status: String(status),
      ...(resource?.meta?.versionId && ok ? { etag: `W/"${resource.meta.versionId}"`, lastModified: resource.meta.lastUpdated } : {}),
      ...(ok ? {} : { outcome }),
    },
  };
}

function writeEntry(ctx: RequestContext, r: WriteResult): BundleEntry {
  const res = r.resource;
  if (!res) return { response: { status: String(r.status) } };
  return {
    fullUrl: `${ctx.baseUrl}/${res.resourceType}/${res.id}`,
    resource: res,
    response: {
      status: String(r.status),
      location: `${res.resourceType}/${res.id}/_history/${res.meta?.versionId}`,
      etag: `W/"${res.meta?.versionId}"`,
      lastModified: res.meta?.lastUpdated,
    },
  };
}
