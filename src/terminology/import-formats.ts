import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { Db, Queryable } from '../store/index.ts';
import type { ConceptRow } from './shipped.ts';
import { checkLoinc, checkSnomed, STANDARD_URIS } from './standard-systems.ts';
import { insertConcepts } from './store.ts';
import { SYSTEMS } from './systems.ts';
import { toUcum } from './units.ts';

/**
 * `healthbrain terminology import loinc|icd10|snomed-icd10-map|rxnorm FILE` (issue 17): full code systems from their
 * publishers' distribution files, streamed (a row at a time; concepts written in chunks of 2,000), in one transaction,
 * idempotent (upserts; a map release replaces its previous rows) and versioned (`terminology_release`, one row per
 * format). The shipped subsets stay: an imported concept the subset has keeps its Chinese display and its platform
 * facts (canonical unit, molar mass, ranges) and gains the publisher's.
 */
export const IMPORT_FORMATS = ['loinc', 'icd10', 'snomed-icd10-map', 'rxnorm'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportResult {
  format: ImportFormat;
  /** The code system written (for a map: its source system). */
  system: string;
  version: string;
  concepts: number;
  crossmaps: number;
  /** Rows of the file not taken (inactive, another source, failing the system's syntax …). */
  skipped: number;
}

type Input = Readable | AsyncIterable<Buffer | string>;

/** Imports one distribution file of `format`; `version` defaults to what the file says (LOINC, RF2) or today. */
export async function importFormat(db: Db, format: ImportFormat, input: Input, opts: { version?: string; system?: string } = {}): Promise<ImportResult> {
  return db.transaction(async (tx) => {
    const r = format === 'loinc' ? await loinc(tx, input, opts.version)
      : format === 'icd10' ? await icd10(tx, input, opts)
        : format === 'snomed-icd10-map' ? await snomedMap(tx, input, opts.version)
          : await rxnorm(tx, input, opts.version);
    await tx.query(
      `INSERT INTO terminology_release (name, version) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, loaded_at = now()`,
      [format === 'icd10' ? `icd10:${r.system}` : format, r.version],
    );
    return r;
  });
}

/** Concepts written a chunk at a time, merging into what is there (shipped rows keep their display and facts). */
class ConceptWriter {
  n = 0;
  #rows: ConceptRow[] = [];
  readonly tx: Queryable;
  constructor(tx: Queryable) {
    this.tx = tx;
  }
  async add(row: ConceptRow): Promise<void> {
    this.#rows.push(row);
    if (this.#rows.length >= 2000) await this.flush();
  }
  async flush(): Promise<void> {
    const rows = this.#rows;
    this.#rows = [];
    if (rows.length) this.n += await insertConcepts(this.tx, rows, 'import', 'merge');
  }
}

const today = () => new Date().toISOString().slice(0, 10);

/** LOINC's Loinc.csv (https://loinc.org/downloads/): LOINC_NUM, LONG_COMMON_NAME, SCALE_TYP, CLASSTYPE, EXAMPLE_UCUM_UNITS … */
async function loinc(tx: Queryable, input: Input, version?: string): Promise<ImportResult> {
  const w = new ConceptWriter(tx);
  let skipped = 0;
  let latest = '';
  for await (const r of toReadable(input).pipe(parse({ columns: true, bom: true, relax_column_count: true }))) {
    const row = r as Record<string, string>;
    const code = row.LOINC_NUM?.trim();
    const name = (row.LONG_COMMON_NAME || row.SHORTNAME || row.COMPONENT)?.trim();
    if (!code || !name || checkLoinc(code)) {
      skipped++;
      continue;
    }
    if (row.VersionLastChanged && row.VersionLastChanged > latest) latest = row.VersionLastChanged;
    const ucum = row.EXAMPLE_UCUM_UNITS?.split(';').map((u) => u.trim()).find((u) => u && toUcum(u) === u);
    const classType = Number(row.CLASSTYPE);
    // Imported facts under their own names: `unit` stays the platform's canonical unit (shipped rows only), since an
    // example unit is no canonical one; the lab builders store such codes' values as sent.
    await w.add({
      system: SYSTEMS.loinc, code, display: name, displayEn: name,
      properties: clean({
        category: classType === 1 ? (row.SCALE_TYP === 'Ord' ? 'laboratory-ord' : 'laboratory') : classType === 2 ? 'clinical' : classType === 4 ? 'survey' : 'claims',
        scale: row.SCALE_TYP || undefined, loincClass: row.CLASS || undefined, status: row.STATUS || undefined, exampleUnit: ucum,
        orderObs: row.ORDER_OBS || undefined, release: `loinc@${version ?? row.VersionLastChanged ?? ''}`,
      }),
    });
  }
  await w.flush();
  return { format: 'loinc', system: SYSTEMS.loinc, version: version ?? (latest || today()), concepts: w.n, crossmaps: 0, skipped };
}

/**
 * ICD-10: the tabular XML (CMS ICD-10-CM `<diag><name/><desc/>`, nested for parents; or WHO ClaML `<Class code>`
 * with `<SuperClass>` and the preferred `<Rubric>`'s `<Label>`), or the national clinical edition (国家临床版)
 * spreadsheet exported as CSV (编码/疾病编码/诊断编码, 名称/疾病名称/诊断名称; UTF-8, as `decodeText` leaves it).
 * The system: ICD-10-CM for the CMS XML, WHO ICD-10 for ClaML, ICD-10-CN for the CSV — or `system`.
 */
async function icd10(tx: Queryable, input: Input, opts: { version?: string; system?: string }): Promise<ImportResult> {
  const w = new ConceptWriter(tx);
  const chunks = toText(input);
  // Enough of the file to tell XML from CSV and to read the release it names (<version>, ClaML's version="").
  let head = '';
  for (let c = await chunks.next(); !c.done; c = head.length < 4096 ? await chunks.next() : { done: true, value: undefined }) head += c.value;
  head = head.replace(/^\uFEFF/, '');
  const rest = (async function* () {
    yield head;
    for await (const c of { [Symbol.asyncIterator]: () => chunks }) yield c;
  })();
  let skipped = 0;
  let system: string;
  let version = opts.version;
  if (head.trimStart().startsWith('<')) {
    system = opts.system ?? (/ICD10CM/i.test(head) ? STANDARD_URIS.icd10cm : STANDARD_URIS.icd10who);
    const release = /<version>([^<]+)<\/version>/.exec(head)?.[1] ?? /<ClaML[^>]*version="([^"]+)"/.exec(head)?.[1];
    version ??= release ?? today();
    const rel = `icd10@${version}`;
    // CMS: a <diag>'s own name and desc come before its child <diag>s; it is written when its first child opens or
    // when it closes, whichever comes first, under the code of the <diag> it is nested in.
    const stack: string[] = [];
    let field: string | undefined;
    let cur: { code?: string; display?: string; parent?: string; claml?: boolean; preferred?: boolean; done?: boolean } | undefined;
    const emit = async () => {
      if (!cur || cur.done) return;
      cur.done = true;
      if (cur.code && cur.display) await w.add({ system, code: cur.code, display: cur.display, displayEn: cur.display, parent: cur.parent, properties: { release: rel } });
      else skipped++;
    };
    for await (const t of xmlTokens(rest)) {
      if (t.kind === 'open' && t.name === 'diag') {
        await emit();
        stack.push('');
        cur = { parent: stack.slice(0, -1).reverse().find((c) => c) };
      } else if (t.kind === 'open' && t.name === 'Class') {
        const code = /\bcode="([^"]+)"/.exec(t.attrs)?.[1];
        cur = { code, claml: true };
        if (t.selfClosing) await emit();
      } else if (t.kind === 'open' && t.name === 'SuperClass' && cur?.claml) cur.parent = /\bcode="([^"]+)"/.exec(t.attrs)?.[1];
      else if (t.kind === 'open' && t.name === 'Rubric' && cur?.claml) cur.preferred = /\bkind="preferred"/.test(t.attrs);
      else if (t.kind === 'open' && (t.name === 'name' || t.name === 'desc' || (t.name === 'Label' && cur?.preferred))) field = t.name;
      else if (t.kind === 'text' && field && cur) {
        const v = decodeEntities(t.text).trim();
        if (field === 'name' && !cur.code) {
          cur.code = v;
          stack[stack.length - 1] = v;
        } else if (field !== 'name' && !cur.display) cur.display = v;
      } else if (t.kind === 'close' && (t.name === 'name' || t.name === 'desc' || t.name === 'Label')) field = undefined;
      else if (t.kind === 'close' && t.name === 'Rubric' && cur) cur.preferred = false;
      else if (t.kind === 'close' && t.name === 'Class' && cur) {
        await emit();
        cur = undefined;
      } else if (t.kind === 'close' && t.name === 'diag') {
        await emit();
        stack.pop();
        cur = undefined;
      }
    }
  } else {
    system = opts.system ?? SYSTEMS.icd10;
    version ??= today();
    const rel = `icd10@${version}`;
    const pick = (r: Record<string, string>, ...names: string[]) => names.map((n) => r[n]?.trim()).find((v) => v);
    for await (const r of toReadable(rest).pipe(parse({ columns: true, bom: true, skip_empty_lines: true, trim: true, relax_column_count: true }))) {
      const row = r as Record<string, string>;
      const code = pick(row, 'code', '编码', '代码', '疾病编码', '诊断编码', '主要编码');
      const display = pick(row, 'display', 'name', '名称', '疾病名称', '诊断名称');
      if (!code || !display) {
        skipped++;
        continue;
      }
      const parent = pick(row, 'parent', '上级编码', '父编码') ?? (code.includes('.') ? code.slice(0, code.indexOf('.')) : undefined);
      await w.add({ system, code, display, parent: parent !== code ? parent : undefined, displayEn: pick(row, 'display_en', '英文名称'), properties: { release: rel } });
    }
  }
  await w.flush();
  return { format: 'icd10', system, version, concepts: w.n, crossmaps: 0, skipped };
}

/**
 * SNOMED CT → ICD-10 from the International Edition's ExtendedMap refset (RF2 Snapshot TSV, der2_iisssccRefset_
 * ExtendedMap…: referencedComponentId, mapGroup, mapPriority, mapRule, mapTarget, mapCategoryId). Per concept, the
 * unconditional target of map group 1 (rule TRUE / OTHERWISE TRUE, lowest priority); 447562003 ICD-10 (WHO) and
 * 6011000124106 ICD-10-CM. Replaces the previous release's maps.
 */
async function snomedMap(tx: Queryable, input: Input, version?: string): Promise<ImportResult> {
  const best = new Map<string, { priority: number; target: string; system: string; equivalence: string }>();
  let skipped = 0;
  let latest = '';
  const targets: Record<string, string> = { '447562003': STANDARD_URIS.icd10who, '6011000124106': STANDARD_URIS.icd10cm };
  for await (const r of toReadable(input).pipe(parse({ columns: true, delimiter: '\t', quote: false, bom: true, relax_column_count: true }))) {
    const row = r as Record<string, string>;
    const system = targets[row.refsetId];
    const rule = (row.mapRule ?? '').trim().toUpperCase();
    const target = (row.mapTarget ?? '').trim().replace(/[†*+]$/, '');
    const concept = row.referencedComponentId;
    if (row.active !== '1' || !system || row.mapGroup !== '1' || !(rule === '' || rule === 'TRUE' || rule === 'OTHERWISE TRUE') || !target || !concept || checkSnomed(concept)) {
      skipped++;
      continue;
    }
    if (row.effectiveTime > latest) latest = row.effectiveTime;
    const key = `${system}|${concept}`;
    const priority = Number(row.mapPriority) || 1;
    // 447637006: "map source concept is properly classified"; anything else is a coarser fit.
    const equivalence = row.mapCategoryId === '447637006' ? 'equivalent' : 'wider';
    const prev = best.get(key);
    if (!prev || priority < prev.priority) best.set(key, { priority, target, system, equivalence });
  }
  await tx.query(`DELETE FROM terminology_crossmap WHERE release = 'snomed-icd10-map'`);
  const rows = [...best].map(([k, v]) => ({ code: k.slice(k.indexOf('|') + 1), ...v }));
  await insertCrossMaps(tx, rows.map((r) => [STANDARD_URIS.snomed, r.code, r.system, r.target, r.equivalence]), 'snomed-icd10-map');
  return { format: 'snomed-icd10-map', system: STANDARD_URIS.snomed, version: version ?? (latest || today()), concepts: 0, crossmaps: rows.length, skipped };
}

const RXNORM_TTY = ['SCD', 'SBD', 'GPCK', 'BPCK', 'IN', 'PIN', 'MIN', 'BN', 'SCDC', 'SBDC', 'SCDF', 'SBDF', 'SCDG', 'SBDG', 'DF', 'DFG', 'PSN', 'SY', 'TMSY'];

/**
 * RxNorm's RXNCONSO.RRF (pipe-delimited, no header: RXCUI|LAT|TS|LUI|STT|SUI|ISPREF|RXAUI|SAUI|SCUI|SDUI|SAB|TTY|CODE|
 * STR|SRL|SUPPRESS|CVF|): one concept per RXCUI of SAB=RXNORM not suppressed, its name from the best term type; and
 * RxNorm → ATC maps from the SAB=ATC rows sharing an RXCUI (ingredients). Replaces the previous release's maps.
 */
async function rxnorm(tx: Queryable, input: Input, version?: string): Promise<ImportResult> {
  const concepts = new Map<string, { rank: number; name: string; tty: string }>();
  const atc: Array<[string, string]> = [];
  let skipped = 0;
  for await (const f of toReadable(input).pipe(parse({ delimiter: '|', quote: false, relax_column_count: true, skip_empty_lines: true }))) {
    const [rxcui, , , , , , , , , , , sab, tty, code, str, , suppress] = f as string[];
    if (sab === 'ATC' && code && /^[A-Z]\d{2}[A-Z]{2}\d{2}$/.test(code)) {
      atc.push([rxcui, code]);
      continue;
    }
    const rank = RXNORM_TTY.indexOf(tty);
    if (sab !== 'RXNORM' || rank < 0 || (suppress && suppress !== 'N') || !/^[1-9]\d*$/.test(rxcui ?? '') || !str) {
      skipped++;
      continue;
    }
    const prev = concepts.get(rxcui);
    if (!prev || rank < prev.rank) concepts.set(rxcui, { rank, name: str, tty });
  }
  const w = new ConceptWriter(tx);
  const rel = `rxnorm@${version ?? today()}`;
  for (const [code, c] of concepts) await w.add({ system: STANDARD_URIS.rxnorm, code, display: c.name, displayEn: c.name, properties: { tty: c.tty, release: rel } });
  await w.flush();
  await tx.query(`DELETE FROM terminology_crossmap WHERE release = 'rxnorm'`);
  const maps = atc.filter(([rxcui]) => concepts.has(rxcui)).map(([rxcui, code]) => [STANDARD_URIS.rxnorm, rxcui, SYSTEMS.atc, code, 'equivalent']);
  await insertCrossMaps(tx, maps, 'rxnorm');
  return { format: 'rxnorm', system: STANDARD_URIS.rxnorm, version: version ?? today(), concepts: w.n, crossmaps: maps.length, skipped };
}

async function insertCrossMaps(tx: Queryable, rows: string[][], release: string): Promise<void> {
  for (let i = 0; i < rows.length; i += 2000) {
    const c = rows.slice(i, i + 2000);
    await tx.query(
      `INSERT INTO terminology_crossmap (source_system, source_code, target_system, target_code, equivalence, release)
       SELECT s, c, ts, tc, e, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(s, c, ts, tc, e)
       ON CONFLICT (source_system, source_code, target_system) DO UPDATE SET target_code = EXCLUDED.target_code, equivalence = EXCLUDED.equivalence, release = EXCLUDED.release`,
      [c.map((r) => r[0]), c.map((r) => r[1]), c.map((r) => r[2]), c.map((r) => r[3]), c.map((r) => r[4]), release],
    );
  }
}

function clean(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));
}

async function* toTextGen(input: Input): AsyncGenerator<string> {
  const dec = new TextDecoder('utf-8');
  for await (const c of input as AsyncIterable<Buffer | string>) yield typeof c === 'string' ? c : dec.decode(c, { stream: true });
  const tail = dec.decode();
  if (tail) yield tail;
}

function toText(input: Input): AsyncIterator<string> {
  return toTextGen(input)[Symbol.asyncIterator]();
}

function toReadable(input: Input): Readable {
  // csv-parse takes a stream; an async iterable (the HTTP body, a generator) becomes one.
  return input instanceof Readable ? input : Readable.from(input);
}

type XmlToken = { kind: 'open'; name: string; attrs: string; selfClosing: boolean } | { kind: 'close'; name: string } | { kind: 'text'; text: string };

/** A minimal streaming XML tokenizer (tags and text; comments, PIs and CDATA skipped): enough for the tabular files. */
async function* xmlTokens(text: AsyncIterable<string>): AsyncGenerator<XmlToken> {
  let buf = '';
  for await (const chunk of text) {
    buf += chunk;
    let i = 0;
    for (;;) {
      const lt = buf.indexOf('<', i);
      if (lt < 0) {
        break;
      }
      if (lt > i) yield { kind: 'text', text: buf.slice(i, lt) };
      const end = buf.startsWith('<!--', lt) ? buf.indexOf('-->', lt) : buf.indexOf('>', lt);
      if (end < 0) {
        i = lt;
        break;
      }
      const tag = buf.slice(lt + 1, end);
      i = end + (buf.startsWith('<!--', lt) ? 3 : 1);
      if (tag.startsWith('?') || tag.startsWith('!')) continue;
      if (tag.startsWith('/')) yield { kind: 'close', name: tag.slice(1).trim() };
      else {
        const m = /^([\w.:-]+)([\s\S]*?)(\/?)$/.exec(tag);
        if (m) yield { kind: 'open', name: m[1], attrs: m[2], selfClosing: m[3] === '/' };
      }
    }
    buf = buf.slice(i);
    // Text with no tag after it yet stays in the buffer (it may continue in the next chunk).
  }
  if (buf && !buf.includes('<')) yield { kind: 'text', text: buf };
}

function decodeEntities(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n))).replace(/&amp;/g, '&');
}
