/**
 * Evaluation tooling (tests and `bench/empi.ts`, never the platform's ingestion path): reads the Patients of a
 * synthetic county's feeds — FHIR Bundles, HL7 v2 PID segments, core-table CSV patient and health-archive rows — as
 * the institution-level Patients the platform would store, keyed `<institution code>|<MRN>` like truth/mrns.csv.
 * Also reads the truth (patient key → true person) and the ADT^A40 merges the feeds contain.
 *
 * Two readers with one output: `streamSynthPatients` streams every file (NDJSON line by line, HL7 MLLP frame by frame,
 * CSV through csv-parse's stream, GBK through an iconv-lite decode stream), so its memory does not grow with the
 * county (a 350,000-person county's HL7 file is longer than V8's longest string); `readSynthPatients` reads whole
 * files at once, for the small counties of tests. Both share the per-unit parsing below.
 */
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Patient } from '@medplum/fhirtypes';
import { parse as parseStream } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { coreTable, findCoreColumn } from '../standards/core-tables.ts';
import { RESIDENT_ID_SYSTEM, type MatchInput } from './features.ts';

interface InstitutionLite {
  code: string;
  format: 'fhir' | 'hl7v2' | 'csv';
  encoding: 'utf-8' | 'gbk';
  feedDir: string;
  mrnSystem: string;
  csv?: { delimiter: string; headerLanguage: 'zh' | 'en' };
}

interface CountyLite {
  institutions: InstitutionLite[];
}

function decode(buf: Buffer, encoding: string): string {
  return (encoding === 'gbk' ? iconv.decode(buf, 'gbk') : buf.toString('utf8')).replace(/^\uFEFF/, '');
}

const GENDER: Record<string, Patient['gender']> = { M: 'male', F: 'female', '1': 'male', '2': 'female', O: 'other', U: 'unknown', '0': 'unknown', '9': 'unknown' };

function hl7Patient(msg: string, mrnSystem: string): { mrn: string; patient: Patient; merge?: string } | undefined {
  const segs = msg.split(/\r\n|\r|\n/);
  const pid = segs.find((s) => s.startsWith('PID|'))?.split('|');
  if (!pid) return undefined;
  const ids = (pid[3] ?? '').split('~').map((rep) => rep.split('^'));
  const mrn = ids.find((c) => c[4] === 'MR')?.[0] ?? ids[0]?.[0];
  if (!mrn) return undefined;
  const identifier: NonNullable<Patient['identifier']> = [{ system: mrnSystem, value: mrn, type: { coding: [{ code: 'MR' }] } }];
  for (const c of ids) {
    if (c[4] === 'NNCHN' && c[0]) identifier.push({ system: RESIDENT_ID_SYSTEM, value: c[0] });
    if (c[4] === 'PPN' && c[0]) identifier.push({ system: 'urn:passport', value: c[0], type: { coding: [{ code: 'PPN' }] } });
  }
  const [family, given] = (pid[5] ?? '').split('~')[0].split('^');
  const latin = /[A-Za-z]/.test(family + (given ?? ''));
  const addr = (pid[11] ?? '').split('~')[0].split('^');
  const patient: Patient = {
    resourceType: 'Patient',
    identifier,
    name: [{ text: latin ? `${family} ${given ?? ''}`.trim() : `${family}${given ?? ''}` }],
    ...(pid[7] ? { birthDate: pid[7].slice(0, 8).replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3') } : {}),
    ...(pid[8] && GENDER[pid[8]] ? { gender: GENDER[pid[8]] } : {}),
    ...(pid[13] ? { telecom: [{ system: 'phone', value: pid[13].split('^')[0] }] } : {}),
    ...(addr[0] ? { address: [{ text: addr[0], ...(addr[8] ? { extension: [{ url: 'urn:division', valueCode: addr[8] }] } : {}) }] } : {}),
  };
  const mrg = segs.find((s) => s.startsWith('MRG|'))?.split('|')[1]?.split('^')[0];
  return { mrn, patient, ...(mrg ? { merge: mrg } : {}) };
}

/** A CSV row reader for one file: the first row given is the header, every later one a data row. */
function csvRowReader(table: 'patient' | 'health_archive', mrnSystem: string): (row: string[]) => { mrn: string; patient: Patient } | undefined {
  const t = coreTable(table)!;
  let keys: string[] | undefined;
  return (row) => {
    if (!keys) {
      keys = row.map((h) => findCoreColumn(t, h)?.key ?? h);
      return undefined;
    }
    if (row.length !== keys.length) return undefined;
    const v = Object.fromEntries(keys.map((k, i) => [k, row[i]]));
    const mrn = v.patient_local_id || v.archive_no;
    if (!mrn) return undefined;
    const identifier: NonNullable<Patient['identifier']> = [{ system: mrnSystem, value: mrn, type: { coding: [{ code: 'MR' }] } }];
    if (v.id_number) identifier.push(v.id_type === '03' ? { system: 'urn:passport', value: v.id_number, type: { coding: [{ code: 'PPN' }] } } : { system: RESIDENT_ID_SYSTEM, value: v.id_number });
    return {
      mrn,
      patient: {
        resourceType: 'Patient',
        identifier,
        ...(v.name ? { name: [{ text: v.name }] } : {}),
        ...(v.birth_date ? { birthDate: v.birth_date } : {}),
        ...(v.sex_code && GENDER[v.sex_code] ? { gender: GENDER[v.sex_code] } : {}),
        ...(v.phone ? { telecom: [{ system: 'phone', value: v.phone }] } : {}),
        ...(v.address || v.division_code ? { address: [{ text: v.address, ...(v.division_code ? { extension: [{ url: 'urn:division', valueCode: v.division_code }] } : {}) }] } : {}),
      },
    };
  };
}

const CSV_OPTIONS = { relax_column_count: true, skip_empty_lines: true } as const;

/** What one file of a feed is, for the readers; undefined for files that hold no Patients. */
function fileKind(f: string): 'ndjson' | 'hl7' | 'patient' | 'health_archive' | undefined {
  if (f.endsWith('.ndjson')) return 'ndjson';
  if (f.endsWith('.hl7')) return 'hl7';
  if (f === 'patient.csv') return 'patient';
  if (f === 'health_archive.csv') return 'health_archive';
  return undefined;
}

/**
 * Turns the units of the feeds (NDJSON lines, MLLP frames, CSV rows) into first registrations per (institution,
 * MRN), in feed order. `emit` receives each new Patient; merges are collected.
 */
class Registrations {
  readonly merges: Array<[string, string]> = [];
  private readonly seen = new Set<string>();
  private readonly emit: (x: MatchInput) => void;
  constructor(emit: (x: MatchInput) => void) {
    this.emit = emit;
  }

  private add(inst: string, mrn: string, patient: Patient): void {
    const key = `${inst}|${mrn}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.emit({ patient: { ...patient, id: key }, patientKey: key, institutionId: inst });
  }

  bundleLine(inst: InstitutionLite, line: string): void {
    if (!line.trim()) return;
    let b: { entry?: Array<{ resource?: Patient }> };
    try {
      b = JSON.parse(line);
    } catch {
      return; // a malformed bundle: the platform quarantines it
    }
    for (const e of b.entry ?? []) {
      const p = e.resource;
      if (p?.resourceType !== 'Patient') continue;
      const mrn = p.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR'))?.value;
      if (mrn) this.add(inst.code, mrn, p);
    }
  }

  /** One MLLP frame: the text between two <FS> characters (<VT> message <FS> <CR>). */
  hl7Frame(inst: InstitutionLite, raw: string): void {
    const msg = raw.replace(/^[\r\n]*\x0b/, '');
    if (!msg.includes('PID|')) return;
    const r = hl7Patient(msg, inst.mrnSystem);
    if (!r) return;
    this.add(inst.code, r.mrn, r.patient);
    if (r.merge) this.merges.push([`${inst.code}|${r.mrn}`, `${inst.code}|${r.merge}`]);
  }

  csvRow(inst: InstitutionLite, read: ReturnType<typeof csvRowReader>, row: string[]): void {
    const r = read(row);
    if (r) this.add(inst.code, r.mrn, r.patient);
  }
}

function feedFiles(dir: string): Array<{ inst: InstitutionLite; file: string; kind: NonNullable<ReturnType<typeof fileKind>> }> {
  const county = JSON.parse(readFileSync(join(dir, 'county.json'), 'utf8')) as CountyLite;
  const out = [];
  for (const inst of county.institutions) {
    const d = join(dir, inst.feedDir);
    for (const f of readdirSync(d).sort()) {
      const kind = fileKind(f);
      if (kind) out.push({ inst, file: join(d, f), kind });
    }
  }
  return out;
}

export interface SynthPatients {
  inputs: MatchInput[];
  /** ADT^A40 merges found: [surviving patient key, prior patient key]. */
  merges: Array<[string, string]>;
}

/**
 * Every institution-level Patient of a synthetic county's feeds, first registration per (institution, MRN), reading
 * whole files: for small counties (tests). Large ones: `streamSynthPatients`.
 */
export function readSynthPatients(dir: string): SynthPatients {
  const inputs: MatchInput[] = [];
  const regs = new Registrations((x) => inputs.push(x));
  for (const { inst, file, kind } of feedFiles(dir)) {
    if (kind === 'ndjson') {
      for (const line of readFileSync(file, 'utf8').split('\n')) regs.bundleLine(inst, line);
    } else if (kind === 'hl7') {
      for (const raw of decode(readFileSync(file), inst.encoding).split('\x1c')) regs.hl7Frame(inst, raw);
    } else {
      const read = csvRowReader(kind, inst.mrnSystem);
      const rows = parse(decode(readFileSync(file), inst.encoding), { ...CSV_OPTIONS, delimiter: inst.csv?.delimiter ?? ',' }) as string[][];
      for (const row of rows) regs.csvRow(inst, read, row);
    }
  }
  return { inputs, merges: regs.merges };
}

/** Runs `source → a [→ b]` and yields what the last stage emits; an error anywhere ends the iteration with it. */
async function* streamed<T>(source: Readable, a: Transform, b?: Transform): AsyncGenerator<T> {
  const last = b ?? a;
  const done = b ? pipeline(source, a, b) : pipeline(source, a);
  done.catch(() => undefined); // awaited below; a failure also reaches the iteration
  for await (const x of last) yield x as T;
  await done;
}

/**
 * `text.split(sep)` for a one-character separator over a text arriving in chunks, without ever holding more than the
 * current unit (a one-character separator cannot straddle two chunks).
 */
async function* pieces(chunks: AsyncIterable<string>, sep: string): AsyncGenerator<string> {
  let rest: string[] = [];
  for await (const chunk of chunks) {
    if (!chunk.includes(sep)) {
      rest.push(chunk);
      continue;
    }
    const parts = chunk.split(sep);
    parts[0] = rest.join('') + parts[0];
    rest = [parts.pop()!];
    yield* parts;
  }
  yield rest.join('');
}

export interface StreamOptions {
  /** Bytes read from a file at a time (default 1 MiB; tests use tiny chunks to cut every unit across reads). */
  chunkBytes?: number;
  /** Receives the ADT^A40 merges found: [surviving patient key, prior patient key]. */
  merges?: Array<[string, string]>;
}

/**
 * The same Patients as `readSynthPatients`, in the same order, streamed: memory holds one chunk, one unit and the set
 * of (institution, MRN) keys seen — never a whole file.
 */
export async function* streamSynthPatients(dir: string, options: StreamOptions = {}): AsyncGenerator<MatchInput> {
  const pending: MatchInput[] = [];
  const regs = new Registrations((x) => pending.push(x));
  const highWaterMark = options.chunkBytes ?? 1 << 20;
  for (const { inst, file, kind } of feedFiles(dir)) {
    const bytes = () => createReadStream(file, { highWaterMark });
    if (kind === 'ndjson') {
      // As readFileSync(file, 'utf8'): UTF-8 whatever the institution's encoding, BOM kept.
      const text = streamed<string>(bytes(), iconv.decodeStream('utf-8', { stripBOM: false }) as Transform);
      for await (const line of pieces(text, '\n')) {
        regs.bundleLine(inst, line);
        yield* pending.splice(0);
      }
    } else if (kind === 'hl7') {
      const text = streamed<string>(bytes(), iconv.decodeStream(inst.encoding) as Transform);
      for await (const raw of pieces(text, '\x1c')) {
        regs.hl7Frame(inst, raw);
        yield* pending.splice(0);
      }
    } else {
      const read = csvRowReader(kind, inst.mrnSystem);
      const rows = streamed<string[]>(bytes(), iconv.decodeStream(inst.encoding) as Transform, parseStream({ ...CSV_OPTIONS, delimiter: inst.csv?.delimiter ?? ',' }));
      for await (const row of rows) {
        regs.csvRow(inst, read, row);
        yield* pending.splice(0);
      }
    }
  }
  if (options.merges) options.merges.push(...regs.merges);
}

/** truth/mrns.csv as patient key (`<inst>|<mrn>`) → true person id. */
export { loadTruth as readSynthTruth } from './truth.ts';
