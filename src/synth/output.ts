/**
 * What one chunk produces: feed text per file, truth lines, and per-institution counts. Chunks are generated
 * independently (possibly in worker threads) and appended to the final files in chunk order, so the output does not
 * depend on the number of workers.
 */
import type { Institution } from './county-types.ts';
import { SYSTEMS } from './local-codes.ts';

/** Short code-system names used in truth/records.ndjson (to keep a 1M-person truth small) and their URIs. */
export const TRUTH_SYSTEMS: Record<string, string> = {
  icd10: SYSTEMS.icd10, loinc: SYSTEMS.loinc, atc: SYSTEMS.atc, cvx: SYSTEMS.cvx, icd9cm3: SYSTEMS.icd9cm3, sex: SYSTEMS.sex, dept: SYSTEMS.dept,
};
const TOKEN = new Map(Object.entries(TRUTH_SYSTEMS).map(([k, v]) => [v, k]));

export interface TruthRecord {
  /** Stable record id: HL7 `<inst>|<MSH-10>`, FHIR entry fullUrl, CSV `<inst>|<table>|<record_id>`. */
  id: string;
  inst: string;
  /** File name inside feeds/<inst>/ (e.g. messages.hl7, bundles.ndjson, lab_result.csv). */
  file: string;
  /** HL7 message type (ADT^A04 …), FHIR resource type, or CSV table key. */
  kind: string;
  person: string;
  mrn: string;
  /** When the record was sent (ISO, +08:00): the event time plus processing delay, or weeks later when late. */
  sentAt: string;
  codes?: TruthCode[];
  errors?: string[];
  copies?: number;
  lateDays?: number;
  malformed?: string;
  /** For repeated tests: the earlier institution/panel/day it repeats. */
  repeatOf?: string;
  /** Chronic follow-up: whether BP/glucose was controlled at this visit. */
  controlled?: boolean;
  /** ADT^A40: the MRN retired by the merge (MRG-1). */
  mergedMrn?: string;
  /** Outbreak-injected ILI visit. */
  outbreak?: boolean;
}

export interface TruthCode {
  /** What the code describes: diagnosis, lab, panel, exam, drug, procedure, vaccine, vital, sex. */
  kind: string;
  /** Short system name (see TRUTH_SYSTEMS): icd10, loinc, atc, cvx, icd9cm3, sex. */
  system: string;
  code: string;
  /** Local code as sent, when different from the standard one. */
  local?: string;
  value?: number | string;
  unit?: string;
}

export interface InstCounts {
  /** Source records written, copies included. */
  records: number;
  /** Distinct source records. */
  distinct: number;
  duplicates: number;
  malformed: number;
  late: number;
  /** Records per file (relative path), copies included. */
  files: Record<string, number>;
}

/** Copies parts into one buffer that owns its memory (never Node's shared pool), so it can be transferred. */
export function concatOwned(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0].byteOffset === 0 && parts[0].buffer.byteLength === parts[0].length) return parts[0];
  let n = 0;
  for (const p of parts) n += p.length;
  const out = Buffer.allocUnsafeSlow(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** UTF-8 bytes in a buffer of their own (not Node's shared pool). */
export function utf8Owned(text: string): Uint8Array {
  const b = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
  b.write(text, 'utf8');
  return b;
}

export class ChunkOutput {
  /** Text per relative feed file not yet encoded, in write order. */
  private readonly pending = new Map<string, string[]>();
  /** Encoded bytes per relative feed file. */
  readonly feeds = new Map<string, Uint8Array[]>();
  truth: string[] = [];
  persons: string[] = [];
  mrns: string[] = [];
  readonly truthBytes: Uint8Array[] = [];
  readonly personBytes: Uint8Array[] = [];
  readonly mrnBytes: Uint8Array[] = [];
  readonly counts = new Map<string, InstCounts>();
  outbreakCases = 0;
  private readonly encode: (file: string, text: string) => Uint8Array;

  constructor(encode: (file: string, text: string) => Uint8Array) {
    this.encode = encode;
  }

  write(file: string, text: string): void {
    const parts = this.pending.get(file);
    if (parts) parts.push(text);
    else this.pending.set(file, [text]);
  }

  /** Encodes what has accumulated so far, keeping the chunk's string memory small. */
  flush(): void {
    for (const [file, parts] of this.pending) {
      const b = this.encode(file, parts.join(''));
      const list = this.feeds.get(file);
      if (list) list.push(b);
      else this.feeds.set(file, [b]);
    }
    this.pending.clear();
    const lines = (a: string[], into: Uint8Array[]) => {
      if (a.length) into.push(utf8Owned(`${a.join('\n')}\n`));
    };
    lines(this.truth, this.truthBytes);
    lines(this.persons, this.personBytes);
    lines(this.mrns, this.mrnBytes);
    this.truth = [];
    this.persons = [];
    this.mrns = [];
  }

  /** Records a source record: its truth line and the counts. */
  record(inst: Institution, t: TruthRecord): void {
    let c = this.counts.get(inst.code);
    if (!c) this.counts.set(inst.code, (c = { records: 0, distinct: 0, duplicates: 0, malformed: 0, late: 0, files: {} }));
    const copies = t.copies ?? 1;
    c.records += copies;
    c.distinct++;
    c.duplicates += copies - 1;
    if (t.malformed) c.malformed++;
    if (t.lateDays) c.late++;
    c.files[t.file] = (c.files[t.file] ?? 0) + copies;
    // Assembled by hand in a fixed key order: this is the generator's most frequent serialisation.
    const q = JSON.stringify;
    let line = `{"id":${q(t.id)},"inst":"${t.inst}","file":${q(t.file.slice(t.file.lastIndexOf('/') + 1))},"kind":${q(t.kind)},"person":"${t.person}","mrn":${q(t.mrn)},"sentAt":"${t.sentAt}"`;
    if (t.codes && t.codes.length) {
      line += ',"codes":[';
      t.codes.forEach((c, i) => {
        line += `${i ? ',' : ''}{"kind":"${c.kind}","system":"${TOKEN.get(c.system) ?? c.system}","code":${q(c.code)}`;
        if (c.local !== undefined) line += `,"local":${q(c.local)}`;
        if (c.value !== undefined) line += `,"value":${q(c.value)}`;
        if (c.unit !== undefined) line += `,"unit":${q(c.unit)}`;
        line += '}';
      });
      line += ']';
    }
    if (t.errors && t.errors.length) line += `,"errors":${q(t.errors)}`;
    if (copies > 1) line += `,"copies":${copies}`;
    if (t.lateDays) line += `,"lateDays":${t.lateDays}`;
    if (t.malformed) line += `,"malformed":${q(t.malformed)}`;
    if (t.repeatOf) line += `,"repeatOf":${q(t.repeatOf)}`;
    if (t.outbreak) line += ',"outbreak":true';
    if (t.controlled !== undefined) line += `,"controlled":${t.controlled}`;
    if (t.mergedMrn) line += `,"mergedMrn":${q(t.mergedMrn)}`;
    this.truth.push(`${line}}`);
  }
}
