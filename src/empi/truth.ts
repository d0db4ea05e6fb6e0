/**
 * The synthetic county's ground truth (docs/SYNTH.md): truth/mrns.csv has one row per institution-level Patient —
 * institution code, MRN, true person — read as `<institution code>|<MRN>` → true person id.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';

/** Parses the text of truth/mrns.csv. */
export function truthFromCsv(text: string): Map<string, string> {
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as Array<{ inst: string; mrn: string; person: string }>;
  return new Map(rows.map((r) => [`${r.inst}|${r.mrn}`, r.person]));
}

/** The path of mrns.csv given the truth directory or the county directory that holds it. */
export function truthFile(dir: string): string {
  for (const f of [join(dir, 'mrns.csv'), join(dir, 'truth', 'mrns.csv')]) if (existsSync(f)) return f;
  throw new Error(`no mrns.csv in ${dir} or ${join(dir, 'truth')}`);
}

export function loadTruth(dir: string): Map<string, string> {
  return truthFromCsv(readFileSync(truthFile(dir), 'utf8'));
}
