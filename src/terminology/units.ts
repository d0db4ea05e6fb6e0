import ucum from '@lhncbc/ucum-lhc';
import type { Concept } from './terminology.ts';

/**
 * Unit normalisation (UCUM, https://ucum.org/ucum) of lab and vital-sign values into the platform's canonical unit
 * per LOINC code. UCUM converts commensurable units (mg/dL ↔ g/L, [degF] ↔ Cel) itself; mass ↔ amount-of-substance
 * (mg/dL ↔ mmol/L) needs the analyte's molar mass, which the LOINC subset carries per code (`molarMass`), and the
 * result is recoded to the molar twin code (1558-6 → 14771-0) because LOINC distinguishes the two properties.
 */
const utils = ucum.UcumLhcUtils.getInstance();

/** Local spellings seen in Chinese LIS/HIS exports → UCUM case-sensitive codes. */
const SPELLINGS: Array<[RegExp, string]> = [
  [/^(?:[x×*]\s*)?10\s*(?:\^|\*|e|\*\*)?\s*(9|12)\s*\/\s*l$/i, '10*$1/L'],
  [/^mmhg$/i, 'mm[Hg]'],
  [/^(?:次\/分(?:钟)?|bpm|次\/min|\/min|beats\/min)$/i, '/min'],
  [/^(?:℃|°c|度|摄氏度|cel)$/i, 'Cel'],
  [/^(?:℉|°f)$/i, '[degF]'],
  [/^(?:kg\/m²|kg\/m\^2|kg\/m2|kg\/㎡)$/i, 'kg/m2'],
  [/^(?:公斤|千克|kg)$/i, 'kg'],
  [/^(?:厘米|cm)$/i, 'cm'],
  [/^(?:米|m)$/, 'm'],
  [/^(?:iu\/l|u\/l)$/i, 'U/L'],
  [/^(?:miu\/l|μiu\/ml|uiu\/ml|µiu\/ml)$/i, 'm[IU]/L'],
  [/^fl$/i, 'fL'],
  [/^pg$/i, 'pg'],
  [/^%$/, '%'],
  [/^mmol\/mol$/i, 'mmol/mol'],
];

/**
 * A local unit string as UCUM (`mmol/l` → `mmol/L`, `μmol/L` → `umol/L`, `×10^9/L` → `10*9/L`, `mmHg` → `mm[Hg]`),
 * or undefined when it is not a unit UCUM knows.
 */
export function toUcum(raw: string): string | undefined {
  // A feed repeats a few dozen unit strings; ucum-lhc's parse is the costly part (memoised, bounded).
  if (UCUM_MEMO.has(raw)) return UCUM_MEMO.get(raw);
  const out = toUcumUncached(raw);
  if (UCUM_MEMO.size < 10_000) UCUM_MEMO.set(raw, out);
  return out;
}

const UCUM_MEMO = new Map<string, string | undefined>();

function toUcumUncached(raw: string): string | undefined {
  const s = raw.normalize('NFKC').trim().replace(/[μµ]/g, 'u').replace(/\s+/g, '');
  if (!s) return undefined;
  for (const [re, code] of SPELLINGS) if (re.test(s)) return s.replace(re, code);
  // Concentration units: canonical case for the prefix and the litre (mmol/l → mmol/L, MG/DL → mg/dL).
  const conc = /^(m|u|n|p)?(mol|g)\/(d)?l$/i.exec(s);
  if (conc) return `${(conc[1] ?? '').toLowerCase()}${conc[2].toLowerCase()}/${conc[3] ? 'd' : ''}L`;
  const v = utils.validateUnitString(s);
  return v.status === 'valid' && v.ucumCode ? v.ucumCode : undefined;
}

export interface NormalizedQuantity {
  /** The LOINC code the value is reported under (the molar twin when a mass concentration was converted). */
  code: string;
  value: number;
  /** UCUM code of the canonical unit. */
  unit: string;
  converted: boolean;
}

export type UnitProblem = { problem: 'unit-unknown' | 'unit-incompatible'; detail: string };

/** Significant digits kept after a conversion (the instruments report 3–4). */
function round(x: number): number {
  return Number(x.toPrecision(5));
}

/**
 * Converts `value rawUnit` of the analyte `concept` into the canonical unit of the concept — or of its molar twin
 * when it has one (`twin`, the SI representation Chinese labs report). An empty unit means the concept's own
 * canonical unit (as the core-table dictionary documents for its fixed-unit columns).
 */
export function normalizeQuantity(
  concept: Concept,
  value: number,
  rawUnit: string | undefined,
  twinOf: (code: string) => Concept | undefined,
): NormalizedQuantity | UnitProblem {
  const twin = typeof concept.properties.twin === 'string' ? twinOf(concept.properties.twin) : undefined;
  const target = twin ?? concept;
  const targetUnit = String(target.properties.unit ?? '');
  const fromUnit = rawUnit && rawUnit.trim() ? toUcum(rawUnit) : String(concept.properties.unit ?? '');
  if (!fromUnit) return { problem: 'unit-unknown', detail: `'${rawUnit}' is not a UCUM unit or a known local spelling` };
  if (!targetUnit) return { problem: 'unit-unknown', detail: `no canonical unit for LOINC ${concept.code}` };
  if (fromUnit === targetUnit) return { code: target.code, value, unit: targetUnit, converted: false };
  // HbA1c: IFCC mmol/mol → NGSP % by the master equation (not a unit conversion, UCUM cannot do it).
  if (targetUnit === '%' && fromUnit === 'mmol/mol' && target.code === '4548-4') {
    return { code: target.code, value: round(0.09148 * value + 2.152), unit: '%', converted: true };
  }
  const mw = typeof target.properties.molarMass === 'number' ? target.properties.molarMass : null;
  const r = utils.convertUnitTo(fromUnit, value, targetUnit, { molecularWeight: mw });
  if (r.status !== 'succeeded' || r.toVal === null || !Number.isFinite(r.toVal)) {
    return { problem: 'unit-incompatible', detail: `${fromUnit} cannot be converted to ${targetUnit} for LOINC ${target.code}` };
  }
  return { code: target.code, value: round(r.toVal), unit: targetUnit, converted: true };
}
