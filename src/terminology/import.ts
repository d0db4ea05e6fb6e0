import iconv from 'iconv-lite';
import { parse } from 'csv-parse/sync';
import type { Db } from '../store/index.ts';
import type { ConceptRow } from './shipped.ts';
import { insertConcepts } from './store.ts';
import { SYSTEM_ALIASES } from './systems.ts';

/** UTF-8 when the bytes decode as UTF-8 without replacement characters, else GBK (GB 18030), as sent by Chinese tools. */
export function decodeText(bytes: Uint8Array): string {
  const utf8 = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const text = utf8.includes('\uFFFD') ? iconv.decode(Buffer.from(bytes), 'gb18030') : utf8;
  return text.replace(/^\uFEFF/, '');
}

/** Resolves a system name given on the command line (`icd-10`, `loinc` …) or a full URI. */
export function resolveSystem(s: string): string {
  return SYSTEM_ALIASES[s.toLowerCase()] ?? s;
}

/**
 * Imports an operator's licensed code table (e.g. the full ICD-10 国家临床版 2.0) from CSV with a header row:
 * `code,display[,parent][,display_en]` (Chinese headers 编码/代码, 名称, 上级编码 accepted), UTF-8 or GBK.
 * Imported rows replace shipped rows with the same code and are never overwritten by a later shipped release.
 * Returns the number of rows written.
 */
export async function importTerminologyCsv(db: Db, system: string, bytes: Uint8Array): Promise<number> {
  const records = parse(decodeText(bytes), { columns: true, skip_empty_lines: true, trim: true, relax_column_count: true }) as Array<Record<string, string>>;
  const pick = (r: Record<string, string>, ...names: string[]) => {
    for (const n of names) if (r[n] !== undefined && r[n] !== '') return r[n];
    return undefined;
  };
  const rows: ConceptRow[] = [];
  for (const [i, r] of records.entries()) {
    const code = pick(r, 'code', '编码', '代码', '疾病编码');
    const display = pick(r, 'display', 'name', '名称', '疾病名称');
    if (!code || !display) throw new Error(`row ${i + 2}: code and display are required`);
    rows.push({
      system: resolveSystem(system), code, display, parent: pick(r, 'parent', '上级编码', '父编码'), displayEn: pick(r, 'display_en', '英文名称'),
      properties: { importedAt: new Date().toISOString() },
    });
  }
  return db.transaction((tx) => insertConcepts(tx, rows, 'import', 'replace'));
}
