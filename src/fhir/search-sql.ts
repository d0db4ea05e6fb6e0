/**
 * Renders a parsed search to SQL over fhir_resource / fhir_shared_resource. Every filter maps to an indexed form:
 * array columns use `&&` / `@>` (GIN), dates compare the stored [date_lo, date_hi) range (btree), the patient
 * param goes to patient_key (the distribution column, so a Citus search for one Patient hits one shard).
 */
import { extractColumnsPrefix, tableFor } from './tables.ts';
import { MAX_PREFIX, normalizeString, precisionRange } from './extract.ts';
import type { FieldCrypto } from '../crypto/index.ts';
import { badRequest, fail } from './outcomes.ts';
import { searchForms } from './protect.ts';
import { parseDateValue, type Filter, type SearchRequest } from './search-parse.ts';

export interface SqlParts {
  table: string;
  where: string;
  params: unknown[];
  orderBy: string;
}

/**
 * WHERE and ORDER BY of a search; placeholders continue after `params` (several searches can share a statement).
 * `crypto`: the database's, to match protected identifiers and phones by their blind indexes (protect.ts).
 */
export function renderSearch(req: SearchRequest, params: unknown[] = [], crypto?: FieldCrypto): SqlParts {
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  const clauses = [`resource_type = ${p(req.resourceType)}`, 'NOT deleted'];
  if (req.institutionId !== undefined) clauses.push(`institution_id = ${p(req.institutionId)}`);
  for (const f of req.filters) clauses.push(renderFilter(f, p, crypto));
  const order = req.sort.map((s) => `${s.column} ${s.desc ? 'DESC' : 'ASC'}${s.column === 'date_lo' ? (s.desc ? ' NULLS LAST' : ' NULLS FIRST') : ''}`);
  if (!req.sort.length) order.push('last_updated ASC');
  order.push('id ASC'); // tie-break: pages never overlap or skip
  return { table: tableFor(req.resourceType), where: clauses.join(' AND '), params, orderBy: order.join(', ') };
}

function renderFilter(f: Filter, p: (v: unknown) => string, crypto: FieldCrypto | undefined): string {
  if (f.code === '_id') {
    const c = `id = ANY(${p(f.values)}::text[])`;
    return f.modifier === 'not' ? `NOT (${c})` : c;
  }
  if (f.code === '_lastUpdated') return or(f.values.map((v) => dateClause(v, f.code, 'last_updated', 'last_updated', true, p)));
  const param = f.param;
  if (!param) fail(badRequest(`Unknown search parameter ${f.code}`, f.code));
  const column = param.column === 'date' ? 'date_lo' : param.column;
  const prefix = extractColumnsPrefix(param);
  if (f.modifier === 'missing') {
    const has = prefix
      ? `EXISTS (SELECT 1 FROM unnest(${column}) AS v WHERE v LIKE ${p(prefix + '%')})`
      : param.column === 'date' ? 'date_lo IS NOT NULL' : `coalesce(cardinality(${column}), 0) > 0`;
    return f.values[0] === 'true' ? `NOT (${has})` : has;
  }
  switch (param.type) {
    case 'token': {
      const exact: string[] = [];
      const systemOnly: string[] = [];
      for (const v of f.values) {
        if (v.endsWith('|')) systemOnly.push(prefix + v);
        else for (const form of searchForms(crypto, param.code, v.startsWith('|') ? v.slice(1) : v)) exact.push(prefix + form);
      }
      const parts: string[] = [];
      if (exact.length) parts.push(`${column} && ${p(exact)}::text[]`);
      for (const s of systemOnly) parts.push(`EXISTS (SELECT 1 FROM unnest(${column}) AS v WHERE v LIKE ${p(likeEscape(s) + '%')})`);
      const c = or(parts);
      return f.modifier === 'not' ? `NOT coalesce(${c}, false)` : c;
    }
    case 'string': {
      const values = f.values.map((v) => `${param.code}=${Array.from(normalizeString(v)).slice(0, MAX_PREFIX).join('')}`);
      return `strings && ${p(values)}::text[]`;
    }
    case 'reference': {
      const refs: string[] = [];
      for (const v of f.values) {
        const parts = v.split('/');
        if (parts.length >= 2) refs.push(`${parts[parts.length - 2]}/${parts[parts.length - 1]}`);
        else for (const t of param.targets ?? []) refs.push(`${t}/${v}`);
      }
      if (param.patientKey) {
        const ids = refs.filter((r) => r.startsWith('Patient/')).map((r) => r.slice(8));
        return `patient_key = ANY(${p(ids)}::text[])`;
      }
      return `refs && ${p(refs.map((r) => `${param.code}=${r}`))}::text[]`;
    }
    case 'date':
      return or(f.values.map((v) => dateClause(v, f.code, 'date_lo', 'date_hi', false, p)));
  }
}

/**
 * A date comparison per https://hl7.org/fhir/R4/search.html#prefix: the stored value covers [lo, hi), the search
 * value covers [slo, shi) by its precision. For a point in time (`_lastUpdated`), lo = hi = the instant.
 */
function dateClause(value: string, name: string, lo: string, hi: string, point: boolean, p: (v: unknown) => string): string {
  const { prefix, date } = parseDateValue(value, name);
  const range = precisionRange(date);
  if (!range) fail(badRequest(`Invalid date "${value}" for search parameter ${name}`, name));
  // Bind only the bounds the comparison uses: an unreferenced parameter has no type and PostgreSQL refuses it.
  let sloRef: string | undefined;
  let shiRef: string | undefined;
  const bounds = {
    get slo() {
      return (sloRef ??= `${p(range[0])}::timestamptz`);
    },
    get shi() {
      return (shiRef ??= `${p(range[1])}::timestamptz`);
    },
  };
  const hiOp = point ? '>=' : '>';
  switch (prefix) {
    case 'eq':
      return point ? `(${lo} >= ${bounds.slo} AND ${lo} < ${bounds.shi})` : `(${lo} >= ${bounds.slo} AND ${hi} <= ${bounds.shi})`;
    case 'ne':
      return point ? `NOT (${lo} >= ${bounds.slo} AND ${lo} < ${bounds.shi})` : `NOT (${lo} >= ${bounds.slo} AND ${hi} <= ${bounds.shi})`;
    case 'gt':
      return `${hi} ${hiOp} ${bounds.shi}`;
    case 'sa':
      return `${lo} >= ${bounds.shi}`;
    case 'ge':
      return `${hi} ${hiOp} ${bounds.slo}`;
    case 'lt':
      return `${lo} < ${bounds.slo}`;
    case 'eb':
      return point ? `${lo} < ${bounds.slo}` : `${hi} <= ${bounds.slo}`;
    case 'le':
      return `${lo} < ${bounds.shi}`;
  }
}

function or(parts: string[]): string {
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}
