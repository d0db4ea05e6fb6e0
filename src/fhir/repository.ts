/**
 * The FHIR resource repository (https://hl7.org/fhir/R4/http.html): create, read, vread, update (If-Match, update as
 * create), soft delete, history, conditional create/update, search. A domain service: it takes its Db and clock in
 * the constructor and knows nothing of HTTP; errors are thrown as OperationOutcomeError.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Db, Queryable } from '../store/index.ts';
import { badRequest, fail, gone, notFoundText, precondition } from './outcomes.ts';
import { findIds, findIdsMany, searchBundle, type SearchOptions } from './search.ts';
import { openResource } from './protect.ts';
import { parseSearch } from './search-parse.ts';
import { historyTableFor, tableFor } from './tables.ts';
import { validateIncoming } from './validate.ts';
import { applyWrites, type WriteAs, type WriteResult } from './write.ts';

export type Clock = () => Date;

/** Who is writing: the submitting institution is stored on every version; `as`: the access rules' part (write.ts). */
export interface WriteContext {
  institutionId?: string;
  as?: WriteAs;
}

export interface WriteOutcome {
  resource: Resource;
  /** True when a new resource was created (201), false for an update or an existing conditional match (200). */
  created: boolean;
  /** What was stored (absent when a conditional create matched): for the audit of writes. */
  written?: WriteResult['written'];
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export class FhirRepository {
  readonly db: Db;
  readonly clock: Clock;

  constructor(db: Db, clock: Clock = () => new Date()) {
    this.db = db;
    this.clock = clock;
  }

  /** read: the current version; 404 when unknown, 410 when deleted. */
  async read(resourceType: string, id: string, q: Queryable = this.db): Promise<Resource> {
    const r = await q.query<{ deleted: boolean; content: Resource }>(
      `SELECT deleted, content FROM ${tableFor(resourceType)} WHERE resource_type = $1 AND id = $2`,
      [resourceType, id],
    );
    const row = r.rows[0];
    if (!row) fail(notFoundText(`${resourceType}/${id} not found`));
    if (row.deleted) fail(gone);
    return openResource(this.db.crypto, row.content);
  }

  /** vread: one version; 404 when unknown, 410 when that version is a deletion. */
  async vread(resourceType: string, id: string, versionId: string): Promise<Resource> {
    const v = Number(versionId);
    if (!Number.isInteger(v)) fail(notFoundText(`${resourceType}/${id}/_history/${versionId} not found`));
    const r = await this.db.query<{ deleted: boolean; content: Resource }>(
      `SELECT deleted, content FROM ${historyTableFor(resourceType)} WHERE resource_type = $1 AND id = $2 AND version_id = $3`,
      [resourceType, id, v],
    );
    const row = r.rows[0];
    if (!row) fail(notFoundText(`${resourceType}/${id}/_history/${versionId} not found`));
    if (row.deleted) fail(gone);
    return openResource(this.db.crypto, row.content);
  }

  /** create: a server-assigned UUID id; with `ifNoneExist`, a conditional create (0 → create, 1 → it, >1 → 412). */
  async create(ctx: WriteContext, body: unknown, options: { resourceType?: string; ifNoneExist?: string } = {}): Promise<WriteOutcome> {
    const resource = validateIncoming(body, options.resourceType);
    return this.db.transaction(async (tx) => {
      if (options.ifNoneExist) {
        const existing = await this.conditionalMatch(tx, resource.resourceType, options.ifNoneExist);
        if (existing) return { resource: await this.read(resource.resourceType, existing, tx), created: false };
      }
      const [r] = await applyWrites(tx, [{ method: 'create', resourceType: resource.resourceType, id: randomUUID(), resource }], this.clock(), ctx.institutionId, ctx.as);
      return { resource: r.resource as Resource, created: true, written: r.written };
    });
  }

  /** update (PUT Type/id): If-Match optimistic locking (412), update as create when the id is new. */
  async update(ctx: WriteContext, resourceType: string, id: string, body: unknown, options: { ifMatch?: string } = {}): Promise<WriteOutcome> {
    if (!ID.test(id)) fail(badRequest(`Invalid id "${id}"`, 'id'));
    const resource = validateIncoming(body, resourceType);
    if (resource.id !== undefined && resource.id !== id) fail(badRequest(`Resource id "${resource.id}" does not match the URL id "${id}"`, `${resourceType}.id`));
    const ifMatch = parseIfMatch(options.ifMatch);
    const [r] = await this.db.transaction((tx) =>
      applyWrites(tx, [{ method: 'update', resourceType, id, resource, ifMatch }], this.clock(), ctx.institutionId, ctx.as),
    );
    return outcomeOf(r);
  }

  /** Conditional update (PUT Type?query): 0 matches → create, 1 → update it, more → 412. */
  async conditionalUpdate(ctx: WriteContext, resourceType: string, query: string, body: unknown): Promise<WriteOutcome> {
    const resource = validateIncoming(body, resourceType);
    return this.db.transaction(async (tx) => {
      const id = (await this.conditionalMatch(tx, resourceType, query)) ?? resource.id ?? randomUUID();
      if (resource.id !== undefined && resource.id !== id) fail(badRequest(`Resource id "${resource.id}" does not match the resource the condition found`, `${resourceType}.id`));
      const [r] = await applyWrites(tx, [{ method: 'update', resourceType, id, resource }], this.clock(), ctx.institutionId, ctx.as);
      return outcomeOf(r);
    });
  }

  /** delete: soft — a deleted version is stored, history kept, read answers 410 afterwards. Idempotent. */
  async delete(ctx: WriteContext, resourceType: string, id: string): Promise<WriteResult> {
    const [r] = await this.db.transaction((tx) => applyWrites(tx, [{ method: 'delete', resourceType, id }], this.clock(), ctx.institutionId, ctx.as));
    return r;
  }

  /**
   * The single match of a conditional query, undefined for none, 412 for several. Serialised per query with a
   * transaction-scoped advisory lock, so two concurrent senders of the same conditional create store it once.
   */
  async conditionalMatch(tx: Queryable, resourceType: string, query: string): Promise<string | undefined> {
    // Clients send If-None-Exist as `identifier=…`, `?identifier=…` or `Patient?identifier=…`: all mean the same.
    query = query.trim().replace(/^[A-Za-z]*\?/, '');
    if (!query) fail(badRequest('Empty conditional query'));
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey(resourceType, query)]);
    const ids = await findIds(tx, resourceType, query);
    if (ids.length > 1) fail(precondition(`Conditional ${resourceType}?${query} matched more than one resource`));
    return ids[0];
  }

  /**
   * Locks and resolves many conditional queries at once (transaction Bundles): one advisory-lock statement (keys in
   * sorted order, so concurrent bundles cannot deadlock) and one search statement. Throws 412 if one is ambiguous.
   */
  async conditionalMatchMany(tx: Queryable, queries: Array<{ resourceType: string; query: string }>): Promise<Array<string | undefined>> {
    if (!queries.length) return [];
    const keys = [...new Set(queries.map((q) => lockKey(q.resourceType, q.query)))].sort();
    await tx.query('SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s', [keys]);
    const found = await findIdsMany(tx, queries);
    return found.map((ids, i) => {
      if (ids.length > 1) fail(precondition(`Conditional ${queries[i].resourceType}?${queries[i].query} matched more than one resource`));
      return ids[0];
    });
  }

  /** search: a searchset Bundle. */
  async search(resourceType: string, query: Array<[string, string]>, opts: SearchOptions & { lenient?: boolean }): Promise<Bundle> {
    const req = parseSearch(resourceType, query, opts.lenient);
    // The access decision's restriction and cap go into the query itself, so paging links and totals stay right.
    if (opts.restrictInstitution !== undefined && tableFor(resourceType) === 'fhir_resource') req.institutionId = opts.restrictInstitution;
    if (opts.maxCount !== undefined) req.count = Math.min(req.count, opts.maxCount);
    return searchBundle(this.db, req, query, opts);
  }

  /**
   * history (https://hl7.org/fhir/R4/http.html#history) of one resource, of a type, or of everything: newest first.
   * Deleted versions appear as DELETE entries without a resource.
   */
  async history(
    resourceType: string | undefined, id: string | undefined, query: Array<[string, string]>, baseUrl: string, opts: { restrictInstitution?: string } = {},
  ): Promise<Bundle> {
    const params = new Map(query);
    const count = Math.min(Number(params.get('_count') ?? 100) || 100, 1000);
    const offset = Math.max(Number(params.get('_offset') ?? 0) || 0, 0);
    const since = params.get('_since');
    const args: unknown[] = [];
    const where: string[] = [];
    if (resourceType) where.push(`resource_type = $${args.push(resourceType)}`);
    if (id) where.push(`id = $${args.push(id)}`);
    if (opts.restrictInstitution !== undefined) where.push(`institution_id = $${args.push(opts.restrictInstitution)}`);
    if (since) {
      if (Number.isNaN(Date.parse(since))) fail(badRequest(`Invalid _since "${since}"`, '_since'));
      where.push(`last_updated >= $${args.push(since)}::timestamptz`);
    }
    const cond = where.length ? 'WHERE ' + where.join(' AND ') : '';
    const tables = resourceType ? [historyTableFor(resourceType)] : ['fhir_resource_history', 'fhir_shared_resource_history'];
    const sql = tables
      .map((t) => `SELECT resource_type, id, version_id, last_updated, deleted, content FROM ${t} ${cond}`)
      .join(' UNION ALL ');
    const r = await this.db.query<{ resource_type: string; id: string; version_id: number; last_updated: Date; deleted: boolean; content: Resource }>(
      `${sql} ORDER BY last_updated DESC, version_id DESC, id LIMIT ${count + 1} OFFSET ${offset}`,
      args,
    );
    if (id && resourceType && !r.rows.length && !offset) fail(notFoundText(`${resourceType}/${id} not found`));
    const hasNext = r.rows.length > count;
    const rows = hasNext ? r.rows.slice(0, count) : r.rows;
    const path = [resourceType, id, '_history'].filter(Boolean).join('/');
    const page = (o: number) => `${baseUrl}/${path}?${new URLSearchParams([...query.filter(([k]) => k !== '_offset' && k !== '_count'), ['_count', String(count)], ['_offset', String(o)]])}`;
    const link = [{ relation: 'self', url: page(offset) }, ...(hasNext ? [{ relation: 'next', url: page(offset + count) }] : [])];
    const entry: BundleEntry[] = rows.map((row) => ({
      fullUrl: `${baseUrl}/${row.resource_type}/${row.id}`,
      ...(row.deleted ? {} : { resource: openResource(this.db.crypto, row.content) }),
      request: {
        method: row.deleted ? 'DELETE' : row.version_id === 1 ? 'POST' : 'PUT',
        url: row.version_id === 1 && !row.deleted ? row.resource_type : `${row.resource_type}/${row.id}`,
      },
      response: {
        status: row.deleted ? '204' : row.version_id === 1 ? '201' : '200',
        etag: `W/"${row.version_id}"`,
        lastModified: row.last_updated.toISOString(),
      },
    }));
    return { resourceType: 'Bundle', type: 'history', link, entry };
  }
}

/** One advisory-lock key per condition, whatever its encoding (`a|b` and `a%7Cb` are the same condition). */
function lockKey(resourceType: string, query: string): string {
  return `${resourceType}?${new URLSearchParams(query.replace(/^[A-Za-z]*\?/, '')).toString()}`;
}

/** `W/"3"` or `"3"` or `3` → 3; undefined when absent; 412-worthy garbage → 400. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header === '') return undefined;
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
  if (!m) fail(badRequest(`Invalid If-Match "${header}" (expected W/"<versionId>")`));
  return Number(m[1]);
}

function outcomeOf(r: WriteResult): WriteOutcome {
  return { resource: r.resource as Resource, created: r.status === 201, written: r.written };
}
