/**
 * Shared state while rendering one chunk's care events into institution feeds: registrations (MRNs and the
 * demographics as entered), id counters, and the transmission faults (duplicates, late uploads, malformed records).
 */
import type { Institution } from './county-types.ts';
import { compactDay, isoDay, pad2 } from './dates.ts';
import { register, type Registration } from './errors.ts';
import type { LocalCatalog } from './local-codes.ts';
import type { Household, Person } from './model.ts';
import type { ChunkOutput } from './output.ts';
import type { Rng } from './prng.ts';
import type { World } from './world.ts';

export interface Transmission {
  at: string;
  sentAt: string;
  /** Sent time in HL7 TS form. */
  sentTs: string;
  copies: number;
  lateDays: number;
  malformed: boolean;
}

const ZEROS = '0000000000';
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HH: string[] = Array.from({ length: 24 }, (_, i) => pad2(i));
const MM: string[] = Array.from({ length: 60 }, (_, i) => pad2(i));
/** ISO date-time in China Standard Time; minutes past midnight may exceed a day (they roll into the next). */
export const isoTime = (day: number, minute: number) => `${isoDay(day + Math.floor(minute / 1440))}T${HH[Math.floor(minute / 60) % 24]}:${MM[minute % 60]}:00+08:00`;
export const hl7Ts = (day: number, minute: number) => `${compactDay(day + Math.floor(minute / 1440))}${HH[Math.floor(minute / 60) % 24]}${MM[minute % 60]}00`;

export class RenderContext {
  private regs = new Map<string, Registration[]>();
  private mrnCounters = new Map<number, number>();
  private seqs = new Map<string, { n: number; head: string }>();
  /** CSV institutions send a patient row once per MRN. */
  readonly sentPatients = new Set<string>();

  readonly world: World;
  readonly chunk: number;
  readonly rng: Rng;
  readonly out: ChunkOutput;

  constructor(world: World, chunk: number, rng: Rng, out: ChunkOutput) {
    this.world = world;
    this.chunk = chunk;
    this.rng = rng;
    this.out = out;
  }

  inst(i: number): Institution {
    return this.world.county.institutions[i];
  }

  cat(i: number): LocalCatalog {
    return this.world.catalogs[i];
  }

  /** A per-chunk unique id with a prefix: `<prefix><chunk 4 digits><n>`. */
  nextId(prefix: string, width = 7): string {
    let c = this.seqs.get(prefix);
    if (!c) this.seqs.set(prefix, (c = { n: 0, head: `${prefix}${String(this.chunk).padStart(4, '0')}` }));
    const n = String(++c.n);
    return c.head + (n.length >= width ? n : ZEROS.slice(0, width - n.length) + n);
  }

  /** Deterministic UUID (version-4 layout) for FHIR fullUrls. */
  uuid(): string {
    const a = this.rng.nextU32();
    const b = this.rng.nextU32();
    const c = this.rng.nextU32();
    const d = this.rng.nextU32();
    const h16 = (n: number) => HEX[(n >>> 8) & 255] + HEX[n & 255];
    return `${h16(a >>> 16)}${h16(a)}-${h16(b >>> 16)}-4${HEX[(b >>> 8) & 255].slice(1)}${HEX[b & 255]}-${HEX[((c >>> 24) & 0x3f) | 0x80]}${HEX[(c >>> 16) & 255]}-${h16(c)}${h16(d >>> 16)}${h16(d)}`;
  }

  private newMrn(instIdx: number): string {
    const n = (this.mrnCounters.get(instIdx) ?? 0) + 1;
    this.mrnCounters.set(instIdx, n);
    const inst = this.inst(instIdx);
    const body = `${String(this.chunk).padStart(3, '0')}${String(n).padStart(5, '0')}`;
    switch (inst.type) {
      case 'county-hospital': return `10${body}`;
      case 'tcm-hospital': return `ZY${body}`;
      case 'mch-hospital': return `FY${body}`;
      case 'public-health': return body; // replaced by the archive number
      default: return `${inst.code.slice(-3)}${body}`;
    }
  }

  /**
   * The registration a record at this institution carries. First contact registers the person (with errors);
   * later contacts reuse it, except that ~2% register again under a new MRN (lost card), and 无名氏 emergencies
   * always get a fresh temporary MRN. Returns the registration and, when a second MRN was created, the first one.
   */
  registration(instIdx: number, p: Person, hh: Household, day: number, opts: { newborn?: boolean; unknown?: boolean; mother?: Person; archiveNo?: string } = {}): { reg: Registration; previous?: Registration } {
    const key = `${instIdx}|${p.idx}`;
    const list = this.regs.get(key);
    const make = () => {
      const mrn = opts.archiveNo ?? this.newMrn(instIdx);
      const reg = register(p, mrn, { rates: this.world.rates, day, household: hh.members, mother: opts.mother, newborn: !!opts.newborn, unknown: !!opts.unknown }, this.rng);
      this.out.mrns.write(`${this.inst(instIdx).code},${mrn},${p.id},${reg.errors.join(' ')}\n`);
      return reg;
    };
    if (opts.unknown) return { reg: make() };
    if (!list) {
      const reg = make();
      this.regs.set(key, [reg]);
      return { reg };
    }
    const last = list[list.length - 1];
    if (this.inst(instIdx).type !== 'public-health' && !last.errors.includes('newbornUnderMother') && this.rng.chance(0.004)) {
      const reg = make();
      list.push(reg);
      return { reg, previous: list[0] };
    }
    // A newborn registered under its mother is re-registered in its own name on its next contact.
    if (last.errors.includes('newbornUnderMother')) {
      const reg = make();
      list.push(reg);
      return { reg };
    }
    return { reg: last };
  }

  /** Decides how a record is transmitted: when it is sent, whether it is late, duplicated or malformed. */
  transmit(day: number, minute: number, allowMalformed = true): Transmission {
    const r = this.world.rates;
    const late = this.rng.chance(r.late);
    const delayMin = late ? 0 : this.rng.int(5, 600);
    const lateDays = late ? this.rng.int(7, 90) : 0;
    const sentMinute = minute + delayMin;
    const sentDay = day + lateDays + Math.floor(sentMinute / 1440);
    const m = sentMinute % 1440;
    return {
      at: isoTime(day, minute), sentAt: isoTime(sentDay, m), sentTs: hl7Ts(sentDay, m),
      copies: this.rng.chance(r.duplicate) ? 2 : 1, lateDays, malformed: allowMalformed && this.rng.chance(r.malformed),
    };
  }
}
