import type { LabPoint, ReferenceRange } from '../../../src/record/summary-types.ts';

/** UCUM codes shown the way Chinese lab reports print them. */
const UNIT_DISPLAY: Record<string, string> = {
  'mmol/L': 'mmol/L',
  'umol/L': 'μmol/L',
  'g/L': 'g/L',
  'mg/dL': 'mg/dL',
  '%': '%',
  '10*9/L': '×10⁹/L',
  '10*12/L': '×10¹²/L',
  'U/L': 'U/L',
  'ug/L': 'μg/L',
  'ng/mL': 'ng/mL',
  'mm[Hg]': 'mmHg',
  'kg/m2': 'kg/m²',
  'mL/min/{1.73_m2}': 'mL/min/1.73m²',
};

/** Display form of a UCUM unit (`10*9/L` → `×10⁹/L`); unknown units are shown as sent. */
export function displayUnit(ucum: string): string {
  return UNIT_DISPLAY[ucum] ?? ucum;
}

/** Decimals that fit a value's magnitude: 3 below 1, 2 below 10, 1 below 100, none above. */
export function decimalsFor(value: number): number {
  const a = Math.abs(value);
  if (a === 0) return 0;
  if (a < 1) return 3;
  if (a < 10) return 2;
  if (a < 100) return 1;
  return 0;
}

/** A value with the precision its magnitude deserves, trailing zeros kept only as far as that precision. */
export function formatValue(value: number, decimals = decimalsFor(value)): string {
  return Number.isInteger(value) && decimals > 0 && Math.abs(value) >= 10 ? String(value) : value.toFixed(decimals);
}

/** `6.80 mmol/L` */
export function formatQuantity(value: number, ucum: string): string {
  return `${formatValue(value)} ${displayUnit(ucum)}`;
}

/** `3.9–6.1` or `< 5.2` or the range text. */
export function formatRange(range: ReferenceRange | undefined): string {
  if (!range) return '';
  if (range.low !== undefined && range.high !== undefined) return `${formatValue(range.low)}–${formatValue(range.high)}`;
  if (range.high !== undefined) return `< ${formatValue(range.high)}`;
  if (range.low !== undefined) return `> ${formatValue(range.low)}`;
  return range.text ?? '';
}

/** The flag to show for a point: the reported interpretation, else one computed from the reference range. */
export function labFlag(point: Pick<LabPoint, 'value' | 'interpretation'>, range?: ReferenceRange): 'H' | 'L' | 'N' | 'A' {
  switch (point.interpretation) {
    case 'H':
    case 'HH':
      return 'H';
    case 'L':
    case 'LL':
      return 'L';
    case 'A':
      return 'A';
    case 'N':
      return 'N';
    case undefined:
      break;
  }
  if (range?.high !== undefined && point.value > range.high) return 'H';
  if (range?.low !== undefined && point.value < range.low) return 'L';
  return 'N';
}
