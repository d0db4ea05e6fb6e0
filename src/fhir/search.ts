/**
 * Executes searches (https://hl7.org/fhir/R4/search.html) and builds the searchset Bundle: `fullUrl`,
 * `search.mode` match/include, `self`/`next`/`previous` links, stable order (sort keys then id), `_include` and
 * `_revinclude` resolved through the `refs` column.
 */
import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../store/index.ts';
import { parseSearch, type Filter, type IncludeSpec, type SearchRequest } from './search-parse.ts';
import { cryptoOf, openResource, searchForms } from './protect.ts';
import { renderSearch } from './search-sql.ts';
import { extractColumnsPrefix, tableFor } from './tables.ts';

// An include never returns more than this many resources per page (a guard against fan-out).
const MAX_INCLUDES = 1000;

export interface SearchOptions {
  baseUrl: string;
  /** Resource types the caller may read; included resources of other types are left out. */
  canRead?: (resourceType: string) => boolean;
  /** Access restriction (issue 10): matches AND included Patient-compartment resources only of this institution. */
  restrictInstitution?: string;
  /** Access cap on the page size (a person's searches). */
  maxCount?: number;
}

/** Runs a parsed search and returns its page of matches (and whether there is a next page). */
export async function findMatches(db: Queryable, req: SearchRequest): Promise<{ resources: Resource[]; hasNext: boolean }> {
  const { table, where, params, orderBy } = renderSearch(req, [], cryptoOf(db));
  const limit = req.count + 1;
  // With ORDER BY … LIMIT the planner likes to walk the sort index and filter, which is a disaster when the filter is
  // an identifier matching one row among millions. When a filter is known to be selective, find the matches first
  // (a materialized CTE, using the GIN/btree index of the filter) and sort only them.
  const sql = req.filters.some(isSelective)
    ? `WITH m AS MATERIALIZED (SELECT content, id, last_updated, date_lo FROM ${table} WHERE ${where})
       SELECT content FROM m ORDER BY ${orderBy} LIMIT ${limit} OFFSET ${req.offset}`
    : `SELECT content FROM ${table} WHERE ${where} ORDER BY ${orderBy} LIMIT ${limit} OFFSET ${req.offset}`;
  const r = await db.query<{ content: Resource }>(sql, params);
  const crypto = cryptoOf(db);
  const resources = r.rows.map((x) => openResource(crypto, x.content));
  const hasNext = resources.length > req.count;
  return { resources: hasNext ? resources.slice(0, req.count) : resources, hasNext };
}

/** Filters that match few rows: business identifiers, ids, one Patient's data, references to one resource. */
function isSelective(f: Filter): boolean {
  if (f.modifier) return false;
  if (f.code === '_id') return true;
  return f.param?.column === 'identifiers' || f.param?.type === 'reference';
}

/** Ids matching a conditional query (If-None-Exist, conditional update/delete); at most `limit`. */
export async function findIds(db: Queryable, resourceType: string, query: string, limit = 2): Promise<string[]> {
  const req = parseSearch(resourceType, [...new URLSearchParams(query)]);
  req.count = limit;
  req.offset = 0;
  req.sort = [];
  const { table, where, params } = renderSearch(req, [], cryptoOf(db));
  const r = await db.query<{ id: string }>(`SELECT id FROM ${table} WHERE ${where} LIMIT ${limit}`, params);
  return r.rows.map((x) => x.id);
}

/**
 * Ids matching each of several conditional queries with few round trips: the usual upsert conditions — one token
 * parameter, one value (`identifier=system|value`) — are grouped per type and parameter into one indexed
 * `column && ARRAY[...]` query whose rows are then assigned to their queries here; any other query runs on its own.
 * A transaction Bundle that upserts a hundred Patients by identifier asks once, not a hundred times.
 */
export async function findIdsMany(db: Queryable, queries: Array<{ resourceType: string; query: string }>, limit = 2): Promise<string[][]> {
  const out: string[][] = queries.map(() => []);
  const groups = new Map<string, { resourceType: string; column: string; items: Array<{ i: number; values: string[] }> }>();
  for (const [i, q] of queries.entries()) {
    const req = parseSearch(q.resourceType, [...new URLSearchParams(q.query)]);
    const f = req.filters.length === 1 ? req.filters[0] : undefined;
    const param = f?.param;
    if (!f || !param || param.type !== 'token' || f.modifier || f.values.length !== 1 || f.values[0].endsWith('|') || f.values[0].startsWith('|')) {
      out[i] = await findIds(db, q.resourceType, q.query, limit);
      continue;
    }
    const key = `${q.resourceType}|${param.column}`;
    const g = groups.get(key) ?? { resourceType: q.resourceType, column: param.column, items: [] };
    // A protected identifier is stored as its blind index: the value's stored forms (protect.ts), any of them matches.
    g.items.push({ i, values: searchForms(cryptoOf(db), param.code, f.values[0]).map((v) => extractColumnsPrefix(param) + v) });
    groups.set(key, g);
  }
  for (const g of groups.values()) {
    const r = await db.query<{ id: string; vals: string[] }>(
      `SELECT id, ${g.column} AS vals FROM ${tableFor(g.resourceType)} WHERE resource_type = $1 AND ${g.column} && $2::text[] AND NOT deleted`,
      [g.resourceType, g.items.flatMap((x) => x.values)],
    );
    for (const row of r.rows) {
      const vals = new Set(row.vals);
      for (const item of g.items) if (item.values.some((v) => vals.has(v)) && out[item.i].length < limit) out[item.i].push(row.id);
    }
  }
  return out;
}

/** A full searchset Bundle for `req`, with includes and paging links. */
export async function searchBundle(db: Queryable, req: SearchRequest, query: Array<[string, string]>, opts: SearchOptions): Promise<Bundle> {
  const { resources, hasNext } = req.countOnly ? { resources: [], hasNext: false } : await findMatches(db, req);
  let total: number | undefined;
  if (req.total) {
    const { table, where, params } = renderSearch(req, [], cryptoOf(db));
    total = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params)).rows[0].n;
  } else if (!hasNext && req.offset === 0) total = resources.length;
  const seen = new Set(resources.map((r) => `${r.resourceType}/${r.id}`));
  const included = [
    ...(await includes(db, resources, req.include, seen, opts)),
    ...(await revincludes(db, resources, req.revinclude, seen, opts)),
  ];
  const entry: BundleEntry[] = [
    ...resources.map((r) => ({ fullUrl: `${opts.baseUrl}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' as const } })),
    ...included.map((r) => ({ fullUrl: `${opts.baseUrl}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'include' as const } })),
  ];
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(total !== undefined ? { total } : {}),
    link: pageLinks(req, query, hasNext, opts.baseUrl),
    entry,
  };
}

function pageLinks(req: SearchRequest, query: Array<[string, string]>, hasNext: boolean, baseUrl: string): BundleLink[] {
  const kept = query.filter(([k]) => k !== '_offset' && k !== '_count');
  const url = (offset: number): string => {
    const q = new URLSearchParams([...kept, ['_count', String(req.count)], ['_offset', String(offset)]]);
    return `${baseUrl}/${req.resourceType}?${q.toString()}`;
  };
  const links: BundleLink[] = [{ relation: 'self', url: url(req.offset) }];
  if (hasNext) links.push({ relation: 'next', url: url(req.offset + req.count) });
  if (req.offset > 0) links.push({ relation: 'previous', url: url(Math.max(0, req.offset - req.count)) });
  return links;
}

async function includes(db: Queryable, matches: Resource[], specs: IncludeSpec[], seen: Set<string>, opts: SearchOptions): Promise<Resource[]> {
  if (!specs.length || !matches.length) return [];
  const wanted = new Map<string, Set<string>>();
  const refsOf = new Map<string, string[]>();
  // The refs column is not in `content`; read it back for the matched page (one indexed query per table).
  for (const [table, list] of groupByTable(matches)) {
    const r = await db.query<{ resource_type: string; id: string; refs: string[] | null }>(
      `SELECT resource_type, id, refs FROM ${table} WHERE (resource_type, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [list.map((m) => m.resourceType), list.map((m) => m.id)],
    );
    for (const row of r.rows) refsOf.set(`${row.resource_type}/${row.id}`, row.refs ?? []);
  }
  for (const m of matches) {
    for (const spec of specs) {
      if (spec.sourceType !== '*' && spec.sourceType !== m.resourceType) continue;
      for (const ref of refsOf.get(`${m.resourceType}/${m.id}`) ?? []) {
        if (!ref.startsWith(spec.param + '=')) continue;
        const target = ref.slice(spec.param.length + 1);
        const [type, id] = target.split('/');
        if ((spec.targetType && type !== spec.targetType) || seen.has(target)) continue;
        if (opts.canRead && !opts.canRead(type)) continue;
        seen.add(target);
        const ids = wanted.get(type) ?? new Set();
        ids.add(id);
        wanted.set(type, ids);
      }
    }
  }
  const out: Resource[] = [];
  for (const [type, ids] of wanted) {
    const restrict = opts.restrictInstitution !== undefined && tableFor(type) === 'fhir_resource';
    const r = await db.query<{ content: Resource }>(
      `SELECT content FROM ${tableFor(type)} WHERE resource_type = $1 AND id = ANY($2::text[]) AND NOT deleted${restrict ? ' AND institution_id = $3' : ''} LIMIT ${MAX_INCLUDES}`,
      restrict ? [type, [...ids], opts.restrictInstitution] : [type, [...ids]],
    );
    out.push(...r.rows.map((x) => openResource(cryptoOf(db), x.content)));
  }
  return out;
}

async function revincludes(db: Queryable, matches: Resource[], specs: IncludeSpec[], seen: Set<string>, opts: SearchOptions): Promise<Resource[]> {
  const out: Resource[] = [];
  for (const spec of specs) {
    if (!matches.length || (opts.canRead && !opts.canRead(spec.sourceType))) continue;
    const refs = matches.map((m) => `${spec.param}=${m.resourceType}/${m.id}`);
    const restrict = opts.restrictInstitution !== undefined && tableFor(spec.sourceType) === 'fhir_resource';
    const r = await db.query<{ content: Resource }>(
      `SELECT content FROM ${tableFor(spec.sourceType)} WHERE resource_type = $1 AND refs && $2::text[] AND NOT deleted${restrict ? ' AND institution_id = $3' : ''}
        ORDER BY last_updated, id LIMIT ${MAX_INCLUDES}`,
      restrict ? [spec.sourceType, refs, opts.restrictInstitution] : [spec.sourceType, refs],
    );
    for (const row of r.rows) {
      const key = `${row.content.resourceType}/${row.content.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(openResource(cryptoOf(db), row.content));
    }
  }
  return out;
}

function groupByTable(resources: Resource[]): Map<string, Array<{ resourceType: string; id: string }>> {
  const out = new Map<string, Array<{ resourceType: string; id: string }>>();
  for (const r of resources) {
    const t = tableFor(r.resourceType);
    out.set(t, [...(out.get(t) ?? []), { resourceType: r.resourceType, id: r.id as string }]);
  }
  return out;
}
