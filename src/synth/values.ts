/** Lab values as an institution prints them: its unit (glucose mmol/L or mg/dL, creatinine µmol/L or mg/dL), range, flag. */
import type { LabItem } from './catalog/labs.ts';
import type { Institution } from './county-types.ts';

function usesAlt(inst: Institution, item: LabItem): boolean {
  if (!item.alt) return false;
  if (item.key === 'glu') return inst.units.glucose === 'mg/dL';
  if (item.key === 'crea') return inst.units.creatinine === 'mg/dL';
  return false;
}

/** [value text, unit text] in the institution's unit. */
export function displayValue(inst: Institution, item: LabItem, value: number): [string, string] {
  if (usesAlt(inst, item)) return [(value * item.alt!.factor).toFixed(item.alt!.decimals), item.alt!.unit];
  return [value.toFixed(item.decimals), item.printUnit];
}

/** Reference range text in the institution's unit, e.g. 3.9-6.1. */
export function rangeText(inst: Institution, item: LabItem): string {
  if (usesAlt(inst, item)) return `${(item.low * item.alt!.factor).toFixed(item.alt!.decimals)}-${(item.high * item.alt!.factor).toFixed(item.alt!.decimals)}`;
  return item.low === 0 ? `<${item.high}` : `${item.low}-${item.high}`;
}

/** HL7 table 0078 abnormal flag. */
export function flagOf(item: LabItem, value: number): 'H' | 'L' | 'N' {
  return value > item.high ? 'H' : value < item.low ? 'L' : 'N';
}

/** The unit an institution reports an item in (UCUM spelling when it is the standard unit). */
export function localUnit(inst: Institution, item: LabItem): string {
  return usesAlt(inst, item) ? item.alt!.unit : item.unit;
}
