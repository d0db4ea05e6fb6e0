/**
 * Parsing of a FHIR search query (https://hl7.org/fhir/R4/search.html) into a typed request, checked against the
 * declared parameters: an unknown parameter, modifier or prefix is a 400 naming it (unless `Prefer: handling=lenient`).
 */
import { r4 } from './definitions.ts';
import { badRequest, fail } from './outcomes.ts';
import { COMMON_PARAMS, paramsByType, RESULT_PARAMS, SORTS, type TypeParam } from './search-params.ts';

export type DatePrefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb';

export interface Filter {
  /** `_id`, `_lastUpdated` or a declared param. */
  code: string;
  param?: TypeParam;
  modifier?: 'missing' | 'not';
  /** Comma-separated alternatives (OR); several filters on one code are ANDed. */
  values: string[];
}

export interface IncludeSpec {
  sourceType: string; // '*' for any
  param: string;
  targetType?: string;
}

export interface SearchRequest {
  resourceType: string;
  filters: Filter[];
  count: number;
  offset: number;
  sort: Array<{ code: string; column: string; desc: boolean }>;
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  total: boolean;
  /** `_summary=count`: only the total, no entries. */
  countOnly: boolean;
  /** Only rows this institution submitted (an access restriction, issue 10: applied inside the SQL, not after). */
  institutionId?: string;
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

let byType: Map<string, Map<string, TypeParam>> | undefined;

/** The declared params of one resource type (code → declaration). */
export function paramsOf(resourceType: string): Map<string, TypeParam> {
  byType ??= paramsByType();
  return byType.get(resourceType) ?? new Map();
}

/** Parses `query` for a search on `resourceType`; `lenient` drops unknown parameters instead of failing. */
export function parseSearch(resourceType: string, query: Array<[string, string]>, lenient = false): SearchRequest {
  const req: SearchRequest = { resourceType, filters: [], count: DEFAULT_COUNT, offset: 0, sort: [], include: [], revinclude: [], total: false, countOnly: false };
  const declared = paramsOf(resourceType);
  for (const [rawName, value] of query) {
    const [name, modifier] = rawName.split(':', 2) as [string, string | undefined];
    if (RESULT_PARAMS.has(name)) {
      parseResultParam(req, rawName, value, lenient);
      continue;
    }
    const common = COMMON_PARAMS.find((p) => p.code === name);
    const param = declared.get(name);
    if (!common && !param) {
      if (lenient) continue;
      fail(badRequest(`Unknown search parameter "${rawName}" for ${resourceType}`, rawName));
    }
    if (rawName.includes('.')) fail(badRequest(`Chained search is not supported: "${rawName}"`, rawName));
    if (modifier !== undefined && modifier !== 'missing' && !(modifier === 'not' && param?.type === 'token')) {
      if (param?.type === 'reference' && declared.get(name)?.targets?.includes(modifier)) {
        req.filters.push({ code: name, param, values: splitValues(value).map((v) => (v.includes('/') ? v : `${modifier}/${v}`)) });
        continue;
      }
      fail(badRequest(`Unsupported modifier ":${modifier}" on search parameter "${name}"`, rawName));
    }
    if (modifier === 'missing' && value !== 'true' && value !== 'false') fail(badRequest(`:missing takes true or false`, rawName));
    const values = splitValues(value);
    if (!values.length) continue;
    if (param?.type === 'date' || name === '_lastUpdated') for (const v of values) parseDateValue(v, rawName);
    req.filters.push({ code: name, param, modifier: modifier as Filter['modifier'], values });
  }
  return req;
}

function parseResultParam(req: SearchRequest, name: string, value: string, lenient: boolean): void {
  switch (name) {
    case '_count': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) fail(badRequest(`_count must be a non-negative integer`, '_count'));
      req.count = Math.min(n, MAX_COUNT);
      // _count=0 asks for the total only (a page of zero entries would have an endless chain of next links).
      if (n === 0) req.countOnly = req.total = true;
      return;
    }
    case '_offset': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) fail(badRequest(`_offset must be a non-negative integer`, '_offset'));
      req.offset = n;
      return;
    }
    case '_sort':
      for (const part of splitValues(value)) {
        const desc = part.startsWith('-');
        const code = desc ? part.slice(1) : part;
        const column = SORTS[code];
        const applies = code.startsWith('_') || paramsOf(req.resourceType).get(code)?.column === 'date';
        if (!column || !applies) {
          if (lenient) continue;
          fail(badRequest(`Unsupported _sort "${part}" for ${req.resourceType}`, '_sort'));
        }
        req.sort.push({ code, column, desc });
      }
      return;
    case '_total':
      req.total = value === 'accurate';
      return;
    case '_summary':
      if (value === 'count') req.countOnly = req.total = true;
      else if (value !== 'false') fail(badRequest(`Unsupported _summary "${value}" (count and false are supported)`, '_summary'));
      return;
    case '_include':
    case '_include:iterate':
    case '_revinclude':
    case '_revinclude:iterate': {
      const rev = name.startsWith('_revinclude');
      const spec = parseInclude(value, rev ? undefined : req.resourceType);
      if (!spec) {
        if (lenient) return;
        fail(badRequest(`Unsupported ${name} "${value}"`, name));
      }
      (rev ? req.revinclude : req.include).push(spec);
      return;
    }
    default:
      return; // _format is the HTTP layer's business
  }
}

function parseInclude(value: string, matchType: string | undefined): IncludeSpec | undefined {
  const [sourceType, param, targetType] = value.split(':');
  if (!sourceType || !param) return undefined;
  if (targetType && !r4().resourceTypes.has(targetType)) return undefined;
  if (sourceType === '*') return matchType ? { sourceType, param, targetType } : undefined;
  if (matchType && sourceType !== matchType) return undefined;
  const def = paramsOf(sourceType).get(param);
  if (def?.type !== 'reference') return undefined;
  return { sourceType, param, targetType };
}

/** Splits on commas not escaped with a backslash (https://hl7.org/fhir/R4/search.html#escaping). */
export function splitValues(value: string): string[] {
  return value
    .split(/(?<!\\),/)
    .map((v) => v.replace(/\\,/g, ','))
    .filter((v) => v !== '');
}

/** A date search value: its prefix (default eq) and the rest. */
export function parseDateValue(value: string, name: string): { prefix: DatePrefix; date: string } {
  const m = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.+)$/.exec(value);
  const prefix = (m?.[1] ?? 'eq') as DatePrefix | 'ap';
  if (prefix === 'ap') fail(badRequest(`Date prefix "ap" is not supported`, name));
  const date = m?.[2] ?? '';
  if (!/^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(date)) {
    fail(badRequest(`Invalid date "${value}" for search parameter ${name}`, name));
  }
  return { prefix, date };
}
