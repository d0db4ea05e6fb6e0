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

/**
 * An append-only UTF-8 byte buffer that owns its memory (never Node's shared pool, so it can be transferred to
 * another thread). Records are encoded straight into it: no intermediate strings to join, little garbage.
 */
export class ByteSink {
  private buf: Buffer;
  length = 0;

  constructor(capacity = 1 << 16) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  write(text: string): void {
    // A UTF-16 code unit never needs more than 3 UTF-8 bytes.
    const need = this.length + text.length * 3;
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    this.length += this.buf.write(text, this.length, 'utf8');
  }

  writeBytes(bytes: Uint8Array): void {
    const need = this.length + bytes.length;
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The bytes written: a view at offset 0 of a buffer this sink owns. */
  bytes(): Uint8Array {
    return new Uint8Array(this.buf.buffer, 0, this.length);
  }
}

export class ChunkOutput {
  /** UTF-8 feed files are encoded as records arrive; GBK files collect text and are encoded in batches. */
  private readonly sinks = new Map<string, ByteSink>();
  private readonly gbkText = new Map<string, string[]>();
  readonly truth = new ByteSink(1 << 20);
  readonly persons = new ByteSink(1 << 18);
  readonly mrns = new ByteSink(1 << 16);
  readonly counts = new Map<string, InstCounts>();
  outbreakCases = 0;
  private readonly isGbk: (file: string) => boolean;
  private readonly encodeGbk: (text: string) => Uint8Array;

  constructor(isGbk: (file: string) => boolean, encodeGbk: (text: string) => Uint8Array) {
    this.isGbk = isGbk;
    this.encodeGbk = encodeGbk;
  }

  write(file: string, text: string): void {
    if (this.isGbk(file)) {
      const parts = this.gbkText.get(file);
      if (parts) parts.push(text);
      else this.gbkText.set(file, [text]);
      return;
    }
    let sink = this.sinks.get(file);
    if (!sink) this.sinks.set(file, (sink = new ByteSink()));
    sink.write(text);
  }

  /** Encodes the GBK text collected so far (keeps string memory small). */
  flush(): void {
    for (const [file, parts] of this.gbkText) {
      let sink = this.sinks.get(file);
      if (!sink) this.sinks.set(file, (sink = new ByteSink()));
      sink.writeBytes(this.encodeGbk(parts.join('')));
    }
    this.gbkText.clear();
  }

  /** Encoded bytes per relative feed file. */
  feeds(): [string, Uint8Array][] {
    this.flush();
    return [...this.sinks].map(([file, sink]) => [file, sink.bytes()]);
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
    this.truth.write(`${line}}\n`);
  }
}
