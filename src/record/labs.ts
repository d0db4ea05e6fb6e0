/**
 * Lab (and vital-sign) series: every numeric Observation of the person grouped per standard LOINC code, all points in
 * ONE UCUM unit. Standardization already stores values in each code's canonical unit; results that reached the store
 * another way (an institution's FHIR resource with mg/dL where the region reports mmol/L) are converted here with
 * the same conversion (terminology `normalizeQuantity`: UCUM, molar mass, the mass↔molar LOINC twin) — so one
 * series spans institutions that sent different units.
 */
import ucum from '@lhncbc/ucum-lhc';
import { normalizeQuantity, SYSTEMS, toUcum, type Concept, type Terminology } from '../terminology/index.ts';
import type { Coding, LabPoint, LabSeries, ReferenceRange } from './summary-types.ts';

const utils = ucum.UcumLhcUtils.getInstance();
const LOINC = 'http://loinc.org';

export interface RawPoint {
  ref: string;
  institution: { id: string; name: string };
  date: string;
  code: { system?: string; code?: string; display?: string };
  value: number;
  unit?: string;
  interpretation?: string;
  range?: { low?: { value?: number; code?: string; unit?: string }; high?: { value?: number; code?: string; unit?: string }; text?: string };
}

const INTERP = new Set(['N', 'H', 'L', 'HH', 'LL', 'A']);

// UCUM validation is costly and a record repeats a handful of unit strings: memoised (bounded by distinct spellings).
const ucumCache = new Map<string, string | undefined>();
function ucumOf(unit: string): string {
  if (!ucumCache.has(unit)) {
    if (ucumCache.size > 10_000) ucumCache.clear();
    ucumCache.set(unit, toUcum(unit));
  }
  return ucumCache.get(unit) ?? unit;
}

/** Converts `value` from `from` to `to` (UCUM codes), using the analyte's molar mass when given. */
function convert(value: number, from: string, to: string, concept: Concept | undefined, terminology: Terminology | undefined): number | undefined {
  if (from === to) return value;
  if (concept && terminology) {
    const n = normalizeQuantity(concept, value, from, (c) => terminology.lookup(SYSTEMS.loinc, c));
    if (!('problem' in n) && n.unit === to) return n.value;
  }
  const mw = typeof concept?.properties.molarMass === 'number' ? concept.properties.molarMass : null;
  const r = utils.convertUnitTo(from, value, to, { molecularWeight: mw });
  return r.status === 'succeeded' && r.toVal !== null && Number.isFinite(r.toVal) ? Number(r.toVal.toPrecision(5)) : undefined;
}

/** Groups points into series (newest series first), converting each point into the series unit. */
export function labSeries(points: RawPoint[], terminology?: Terminology): LabSeries[] {
  const groups = new Map<string, RawPoint[]>();
  for (const p of points) {
    if (p.code.system !== LOINC || !p.code.code) continue;
    const concept = terminology?.lookup(SYSTEMS.loinc, p.code.code);
    // The mass-concentration code and its molar twin are one analyte: one series under the canonical (twin) code.
    const key = typeof concept?.properties.twin === 'string' ? concept.properties.twin : p.code.code;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(p);
  }
  const out: LabSeries[] = [];
  for (const [code, pts] of groups) {
    const concept = terminology?.lookup(SYSTEMS.loinc, code);
    const units = pts.map((p) => (p.unit ? ucumOf(p.unit) : undefined));
    const unit = (concept?.properties.unit as string | undefined) || mostCommon(units.filter((u): u is string => !!u)) || '';
    const series: LabPoint[] = [];
    let range: ReferenceRange | undefined;
    let rangeDate = '';
    pts.forEach((p, i) => {
      const from = units[i] ?? unit;
      const pointConcept = terminology?.lookup(SYSTEMS.loinc, p.code.code!);
      const value = convert(p.value, from, unit, pointConcept ?? concept, terminology);
      if (value === undefined) return;
      const interpretation = p.interpretation && INTERP.has(p.interpretation) ? (p.interpretation as LabPoint['interpretation']) : undefined;
      series.push({ ref: p.ref, institution: p.institution, date: p.date, value, ...(interpretation ? { interpretation } : {}) });
      if (p.range && p.date >= rangeDate) {
        const r = rangeIn(p.range, unit, pointConcept ?? concept, terminology);
        if (r) {
          range = r;
          rangeDate = p.date;
        }
      }
    });
    if (!series.length) continue;
    series.sort((a, b) => a.date.localeCompare(b.date));
    if (range && (range.low !== undefined || range.high !== undefined)) {
      for (const pt of series) pt.interpretation ??= range.high !== undefined && pt.value > range.high ? 'H' : range.low !== undefined && pt.value < range.low ? 'L' : 'N';
    }
    const display = concept?.display ?? pts[pts.length - 1].code.display ?? code;
    const coding: Coding = { system: LOINC, code, display };
    out.push({ code: coding, unit, ...(range ? { referenceRange: range } : {}), points: series });
  }
  out.sort((a, b) => b.points[b.points.length - 1].date.localeCompare(a.points[a.points.length - 1].date) || a.code.code.localeCompare(b.code.code));
  return out;
}

function rangeIn(r: NonNullable<RawPoint['range']>, unit: string, concept: Concept | undefined, terminology: Terminology | undefined): ReferenceRange | undefined {
  const conv = (q?: { value?: number; code?: string; unit?: string }) => {
    if (q?.value === undefined) return undefined;
    const from = q.code ?? (q.unit ? ucumOf(q.unit) : undefined) ?? unit;
    return convert(q.value, from, unit, concept, terminology);
  };
  const low = conv(r.low);
  const high = conv(r.high);
  if (low === undefined && high === undefined && !r.text) return undefined;
  return { ...(low !== undefined ? { low } : {}), ...(high !== undefined ? { high } : {}), ...(r.text ? { text: r.text } : {}) };
}

function mostCommon(xs: string[]): string | undefined {
  const n = new Map<string, number>();
  for (const x of xs) n.set(x, (n.get(x) ?? 0) + 1);
  return [...n].sort((a, b) => b[1] - a[1])[0]?.[0];
}
