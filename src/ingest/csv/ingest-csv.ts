import { basename } from 'node:path';
import { coreTable, findCoreColumn, type CoreTable } from '../../standards/core-tables.ts';
import { decodeText, detectEncoding, hasUtf8Bom } from '../encoding.ts';
import type { LandResult, QuarantineReason, UnitInput } from '../types.ts';
import { detectDateFormat } from './dates.ts';
import { csvRecords, detectDelimiter, parseFields, type RawRecord } from './records.ts';

export const CSV_CONTENT_TYPE = 'text/csv';
/** Rows landed per transaction: large enough for set-based writes, small enough to keep memory flat. */
const BATCH_ROWS = 5000;
/** Rows read before landing starts, to detect each date column's format. */
const SAMPLE_ROWS = 500;

/** A CSV whose header lacks required core-table columns: refused as a whole, naming them. */
export class CsvColumnsError extends Error {
  readonly missing: string[];
  constructor(table: string, missing: Array<{ key: string; header: string }>) {
    super(`core table ${table}: missing required column(s) ${missing.map((m) => `${m.header} (${m.key})`).join(', ')}`);
    this.missing = missing.map((m) => m.key);
  }
}

export interface CsvIngestOptions {
  institutionId: string;
  /** Core-table key; else taken from the file name stem (`lab_result-2024-03.csv` → `lab_result`). */
  table?: string;
  fileName?: string;
  land: (units: UnitInput[]) => Promise<LandResult[]>;
  onProgress?: (p: { bytes: number; rows: number }) => void;
  /** Batches landing at once (default 1; 2 suits a PostgreSQL pool). */
  concurrency?: number;
}

export interface CsvSummary {
  table: string;
  encoding: string;
  delimiter: string;
  dateFormats: Record<string, string>;
  /** Data rows read (header excluded, blank lines ignored). */
  received: number;
  landed: number;
  duplicates: number;
  /** Rows landed already quarantined (wrong field count, empty required value). */
  quarantined: number;
}

/** The core table a file belongs to, from an explicit key or its name. */
export function tableFor(table: string | undefined, fileName: string | undefined): CoreTable {
  const key = table ?? (fileName ? basename(fileName).replace(/\.(csv|txt)$/i, '').replace(/[-.].*$/, '') : undefined);
  const found = key ? coreTable(key) : undefined;
  if (!found) throw new Error(key ? `unknown core table '${key}'` : 'name the core table (?table= / --table)');
  return found;
}

/**
 * Lands a core-table CSV stream (issue 4, batch channel), one unit per data row, in bounded memory: encoding detected
 * (UTF-8 with/without BOM, else GBK/GB 18030), header mapped to the core-table dictionary in any order and language,
 * date formats detected per column. A unit's bytes are the file's header line, LF, and the row's original bytes —
 * self-describing and verbatim, so a re-sent row is a duplicate. Rows with the wrong field count or an empty
 * required value are landed quarantined with the reason, never dropped.
 */
export async function ingestCsv(source: AsyncIterable<Buffer | Uint8Array | string>, options: CsvIngestOptions): Promise<CsvSummary> {
  const table = tableFor(options.table, options.fileName);
  let bytesRead = 0;
  const counted = (async function* () {
    for await (const chunk of source) {
      bytesRead += chunk.length;
      yield chunk;
    }
  })();
  const records = csvRecords(counted);
  const first = await records.next();
  if (first.done) throw new Error('empty CSV: no header line');
  const headerRecord = first.value.bytes;
  const headerBytes = hasUtf8Bom(headerRecord) ? headerRecord.subarray(3) : headerRecord;
  const sample: RawRecord[] = [];
  for (let r = await records.next(); !r.done; r = sample.length < SAMPLE_ROWS ? await records.next() : { done: true, value: undefined }) {
    sample.push({ bytes: Buffer.from(r.value.bytes), line: r.value.line });
  }
  const encoding = hasUtf8Bom(headerRecord) ? 'utf-8' : detectEncoding(Buffer.concat([headerBytes, ...sample.map((s) => s.bytes)]));
  const header = decodeText(headerBytes, encoding);
  const delimiter = detectDelimiter(header);
  const names = parseFields(header, delimiter).map((h) => h.trim());
  const columns = names.map((h) => findCoreColumn(table, h));
  const present = new Set(columns.filter((c) => c).map((c) => c!.key));
  const missing = table.columns.filter((c) => c.required && !present.has(c.key));
  if (missing.length) throw new CsvColumnsError(table.key, missing);

  const decodeRow = (r: RawRecord) => parseFields(decodeText(r.bytes, encoding), delimiter);
  const dateFormats: Record<string, string> = {};
  const sampleFields = sample.map(decodeRow);
  columns.forEach((col, i) => {
    if (col && (col.type === 'date' || col.type === 'datetime')) {
      const f = detectDateFormat(sampleFields.map((f) => f[i] ?? ''));
      if (f) dateFormats[col.key] = f;
    }
  });
  const required = columns.map((c) => c?.required ?? false);
  const summary: CsvSummary = { table: table.key, encoding, delimiter, dateFormats, received: 0, landed: 0, duplicates: 0, quarantined: 0 };
  const prefix = Buffer.concat([headerBytes, Buffer.of(0x0a)]);
  const baseMeta = { table: table.key, ...(options.fileName ? { file: basename(options.fileName) } : {}), delimiter, dateFormats };

  let batch: UnitInput[] = [];
  // Batches land while the next ones are parsed (JS and database work overlap; on a PostgreSQL pool two landings
  // also overlap each other's COPY and INSERT). Memory stays at `inFlight + 1` batches.
  const inFlight: Promise<void>[] = [];
  const maxInFlight = options.concurrency ?? 1;
  const flush = async () => {
    while (inFlight.length >= maxInFlight) await inFlight.shift();
    if (!batch.length) return;
    const units = batch;
    batch = [];
    const landing = options.land(units).then((results) => {
      results.forEach((r, i) => {
        if (r.duplicate) summary.duplicates++;
        else {
          summary.landed++;
          if (units[i].quarantine) summary.quarantined++;
        }
      });
      options.onProgress?.({ bytes: bytesRead, rows: summary.received });
    });
    landing.catch(() => undefined); // its failure surfaces where it is awaited (a later flush or the end), not as unhandled
    inFlight.push(landing);
  };
  const take = async (r: RawRecord, fields: string[]) => {
    summary.received++;
    batch.push({
      institutionId: options.institutionId, channel: 'csv', contentType: CSV_CONTENT_TYPE, encoding,
      content: Buffer.concat([prefix, r.bytes]),
      meta: { ...baseMeta, row: r.line },
      quarantine: rowProblems(fields, names, required),
    });
    if (batch.length >= BATCH_ROWS) await flush();
  };
  for (let i = 0; i < sample.length; i++) await take(sample[i], sampleFields[i]);
  for await (const r of records) await take(r, decodeRow(r));
  await flush();
  while (inFlight.length) await inFlight.shift();
  return summary;
}

function rowProblems(fields: string[], names: string[], required: boolean[]): QuarantineReason[] | undefined {
  if (fields.length !== names.length) {
    return [{ code: 'csv-field-count', detail: `row has ${fields.length} fields, the header has ${names.length}` }];
  }
  const empty = names.filter((_, i) => required[i] && !fields[i].trim());
  return empty.length ? empty.map((n) => ({ code: 'csv-required-missing', detail: `required column ${n} is empty`, element: n })) : undefined;
}
