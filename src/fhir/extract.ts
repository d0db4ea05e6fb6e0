/**
 * Write-time extraction of the search columns from a resource, driven by the declarations in search-params.ts.
 * Paths are compiled once into segment lists and walked over plain JSON (no FHIRPath engine on the hot path: this
 * runs for every resource of every bundle, and the store's target is ≥ 5,000 resources/s).
 */
import type { Resource } from '@medplum/fhirtypes';
import { codeSystemOf } from './bindings.ts';
import { r4 } from './definitions.ts';
import { paramsByType, type TypeParam } from './search-params.ts';

/** The columns a resource contributes to fhir_resource / fhir_shared_resource. */
export interface SearchColumns {
  patientKey: string;
  status: string | null;
  identifiers: string[];
  codes: string[];
  categories: string[];
  tokens: string[];
  strings: string[];
  refs: string[];
  dateLo: string | null;
  dateHi: string | null;
}

interface CompiledParam {
  def: TypeParam;
  paths: string[][];
  /** The dotted paths, for binding lookups of code-typed elements. */
  dotted: string[];
}

let compiled: Map<string, CompiledParam[]> | undefined;

function compiledFor(resourceType: string): CompiledParam[] {
  if (!compiled) {
    compiled = new Map();
    for (const [type, params] of paramsByType()) {
      compiled.set(type, [...params.values()].map((def) => ({ def, paths: def.typePaths.map((p) => p.split('.').slice(1)), dotted: def.typePaths })));
    }
  }
  return compiled.get(resourceType) ?? [];
}

/** Values at a compiled path; arrays are flattened; `x[x]` matches any choice-typed key. */
export function valuesAt(root: unknown, segments: string[]): unknown[] {
  let current: unknown[] = [root];
  for (const seg of segments) {
    const next: unknown[] = [];
    const choice = seg.endsWith('[x]') ? seg.slice(0, -3) : undefined;
    for (const node of current) {
      if (!node || typeof node !== 'object') continue;
      const obj = node as Record<string, unknown>;
      if (choice) {
        for (const k of Object.keys(obj)) {
          if (k.length > choice.length && k.startsWith(choice) && /[A-Z]/.test(k.charAt(choice.length))) push(next, obj[k]);
        }
      } else push(next, obj[seg]);
    }
    current = next;
  }
  return current;
}

function push(out: unknown[], v: unknown): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) for (const x of v) out.push(x);
  else out.push(v);
}

/** Whether resources of this type live in the Patient compartment table (fhir_resource) or the shared one. */
export function isCompartmentType(resourceType: string): boolean {
  return resourceType === 'Patient' || r4().patientCompartment.has(resourceType);
}

// The elements whose Patient reference makes a resource "about" that Patient (the compartment's first param).
const PATIENT_FIELDS = ['subject', 'patient', 'beneficiary', 'individual'];

/** patient_key: a Patient's own id; else the id in the first `Patient/…` reference of subject/patient/…; else ''. */
export function patientKeyOf(resource: Resource): string {
  if (resource.resourceType === 'Patient') return resource.id ?? '';
  if (!isCompartmentType(resource.resourceType)) return '';
  const obj = resource as unknown as Record<string, unknown>;
  for (const f of PATIENT_FIELDS) {
    const ref = obj[f] as { reference?: string } | undefined;
    const parsed = ref?.reference ? parseReference(ref.reference) : undefined;
    if (parsed?.[0] === 'Patient') return parsed[1];
  }
  return '';
}

/** `Type/id` (relative or absolute URL, `/_history/n` dropped) → [Type, id]; undefined for urn:, #contained, etc. */
export function parseReference(ref: string): [string, string] | undefined {
  if (ref.startsWith('#') || ref.startsWith('urn:') || ref.includes('?')) return undefined;
  const parts = ref.split('/');
  const h = parts.indexOf('_history');
  const cut = h > 0 ? parts.slice(0, h) : parts;
  if (cut.length < 2) return undefined;
  const type = cut[cut.length - 2];
  const id = cut[cut.length - 1];
  return /^[A-Z][A-Za-z]+$/.test(type) && id ? [type, id] : undefined;
}

/** Lower-case, whitespace-free form used for string search on both sides. */
export function normalizeString(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
}

// Prefixes are stored up to this length; a longer search value is matched on its first MAX_PREFIX characters.
export const MAX_PREFIX = 24;

/** Computes every search column of a resource. */
export function extractColumns(resource: Resource): SearchColumns {
  const cols: SearchColumns = {
    patientKey: patientKeyOf(resource),
    status: typeof (resource as { status?: unknown }).status === 'string' ? (resource as { status: string }).status : null,
    identifiers: [], codes: [], categories: [], tokens: [], strings: [], refs: [], dateLo: null, dateHi: null,
  };
  for (const { def, paths, dotted } of compiledFor(resource.resourceType)) {
    let values: unknown[] = [];
    for (const p of paths) values = values.concat(valuesAt(resource, p));
    if (def.filter) values = values.filter(def.filter);
    if (!values.length) continue;
    switch (def.type) {
      case 'token': {
        const prefix = def.column === 'tokens' ? def.code + '=' : '';
        const target = cols[def.column as 'identifiers' | 'codes' | 'categories' | 'tokens'];
        for (const v of values) {
          for (const t of tokensOf(v)) target.push(prefix + t);
          if (typeof v !== 'string') continue;
          // A bare code's system is the one of its element's required binding (Patient.gender → administrative-gender).
          for (const path of dotted) {
            const system = codeSystemOf(path, v);
            if (system) target.push(`${prefix}${system}|${v}`);
          }
        }
        break;
      }
      case 'string':
        for (const v of values) for (const s of stringsOf(v)) addPrefixes(cols.strings, def.code, s);
        break;
      case 'reference':
        for (const v of values) {
          const ref = (v as { reference?: string }).reference;
          const parsed = ref ? parseReference(ref) : undefined;
          if (parsed && (!def.targets || def.targets.includes(parsed[0]))) cols.refs.push(`${def.code}=${parsed[0]}/${parsed[1]}`);
        }
        break;
      case 'date':
        for (const v of values) {
          const range = dateRangeOf(v);
          if (!range) continue;
          if (cols.dateLo === null || range[0] < cols.dateLo) cols.dateLo = range[0];
          if (cols.dateHi === null || range[1] > cols.dateHi) cols.dateHi = range[1];
        }
        break;
    }
  }
  for (const k of ['identifiers', 'codes', 'categories', 'tokens', 'strings', 'refs'] as const) {
    if (cols[k].length > 1) cols[k] = [...new Set(cols[k])];
  }
  return cols;
}

/** Token forms of a value: `system|code` and bare `code` (Coding, CodeableConcept, Identifier, ContactPoint, code). */
export function tokensOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (typeof v === 'boolean' || typeof v === 'number') return [String(v)];
  if (!v || typeof v !== 'object') return [];
  const o = v as { coding?: unknown[]; system?: string; code?: string; value?: string };
  if (Array.isArray(o.coding)) return o.coding.flatMap(tokensOf);
  const code = o.code ?? o.value;
  if (typeof code !== 'string') return [];
  return o.system ? [`${o.system}|${code}`, code] : [code];
}

/**
 * The searchable strings of a HumanName (parts, text, family+given run together: 张三, zhangsan), an Address (text,
 * lines, district, city, state) or a plain string.
 */
function stringsOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  const a = v as { line?: string[]; city?: string; district?: string; state?: string; family?: string };
  if (a.line || a.city || a.district || a.state) {
    return [(v as { text?: string }).text, ...(a.line ?? []), a.district, a.city, a.state].filter((x): x is string => !!x);
  }
  const n = v as { family?: string; given?: string[]; text?: string; prefix?: string[] };
  const out: string[] = [];
  if (n.family) out.push(n.family);
  if (n.given) out.push(...n.given);
  if (n.text) out.push(n.text);
  if (n.family && n.given?.length) out.push(n.family + n.given.join(''), n.given.join('') + n.family);
  return out;
}

function addPrefixes(out: string[], code: string, raw: string): void {
  const s = normalizeString(raw);
  const chars = Array.from(s);
  const n = Math.min(chars.length, MAX_PREFIX);
  let acc = '';
  for (let i = 0; i < n; i++) {
    acc += chars[i];
    out.push(`${code}=${acc}`);
  }
}

/**
 * The zone of dates and dateTimes that carry none. FHIR reads them in the server's local time
 * (https://hl7.org/fhir/R4/search.html#date); this platform serves Chinese regions, all on China Standard Time, so
 * `birthdate=1980-01-01` and an Observation at 07:00 +08:00 on that day agree. Applied to stored and searched values.
 */
export const IMPLICIT_ZONE = '+08:00';
const IMPLICIT_OFFSET_MS = 8 * 3_600_000;

/**
 * The instant range [lo, hi) a date, dateTime, instant or Period covers, per FHIR's implicit precision
 * (https://hl7.org/fhir/R4/search.html#date). An open Period end is 'infinity'.
 */
export function dateRangeOf(v: unknown): [string, string] | undefined {
  if (typeof v === 'string') return precisionRange(v);
  if (v && typeof v === 'object') {
    const p = v as { start?: string; end?: string };
    if (!p.start && !p.end) return undefined;
    const lo = p.start ? precisionRange(p.start)?.[0] : '-infinity';
    const hi = p.end ? precisionRange(p.end)?.[1] : 'infinity';
    return lo && hi ? [lo, hi] : undefined;
  }
  return undefined;
}

/** [lo, hi) of a partial or full date/dateTime string, as ISO instants; undefined when it does not parse. */
export function precisionRange(s: string): [string, string] | undefined {
  let m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(s);
  if (m) {
    const y = Number(m[1]);
    const local = (ms: number) => iso(ms - IMPLICIT_OFFSET_MS);
    if (m[3]) {
      const lo = Date.UTC(y, Number(m[2]) - 1, Number(m[3]));
      return [local(lo), local(lo + 86_400_000)];
    }
    if (m[2]) return [local(Date.UTC(y, Number(m[2]) - 1, 1)), local(Date.UTC(y, Number(m[2]), 1))];
    return [local(Date.UTC(y, 0, 1)), local(Date.UTC(y + 1, 0, 1))];
  }
  m = /^\d{4}-\d{2}-\d{2}T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(s);
  if (!m) return undefined;
  const t = Date.parse(m[5] ? s : s + IMPLICIT_ZONE);
  if (Number.isNaN(t)) return undefined;
  const step = m[4] ? 1 : m[3] ? 1000 : 60_000;
  return [iso(t), iso(t + step)];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
