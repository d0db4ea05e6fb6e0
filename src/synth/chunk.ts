/**
 * Generates one chunk of the county: its households and persons, their health and care, and the feed text each
 * institution sends about them. A chunk depends only on (options, chunk index), never on other chunks, which keeps
 * output identical whether chunks run in one thread or several.
 */
import iconv from 'iconv-lite';
import { generateHouseholds, IdAllocator } from './population.ts';
import { assignHealth, careEvents } from './health.ts';
import { renderVisitHl7 } from './hl7-feed.ts';
import { renderVisitFhir } from './fhir-feed.ts';
import { patientRow, renderPublicHealthCsv, renderVisitCsv } from './csv-feed.ts';
import { isoDay } from './dates.ts';
import type { Household, Person } from './model.ts';
import { ChunkOutput, type InstCounts } from './output.ts';
import { Rng } from './prng.ts';
import { RenderContext } from './render-context.ts';
import type { World } from './world.ts';

export interface ChunkResult {
  chunk: number;
  persons: number;
  households: number;
  outbreakCases: number;
  /** Encoded feed bytes per relative file. */
  feeds: [string, Uint8Array][];
  truth: Uint8Array;
  persons_: Uint8Array;
  mrns: Uint8Array;
  counts: [string, InstCounts][];
}

const DOCTORS = ['章丽萍', '吴建华', '潘志刚', '沈美芳', '钱永明', '蒋小燕', '胡国平', '俞海英'];

function personTruth(world: World, p: Person): string {
  return JSON.stringify({
    id: p.id, household: p.householdId, name: p.name, surname: p.surname, given: p.given, sex: p.sex, birthDate: isoDay(p.birth),
    residentId: p.residentId || undefined, passport: p.foreign?.passport, nationality: p.foreign?.nationality ?? 'CHN', phone: p.phone, oldPhone: p.oldPhone,
    address: p.address, villageCode: p.villageCode, townshipCode: world.county.divisions[p.townshipIdx].code, deathDate: p.death === undefined ? undefined : isoDay(p.death),
    bornInPeriod: p.bornInPeriod || undefined, motherId: p.motherId, migrant: p.migrant || undefined,
    conditions: [...p.conditions].map(([k, c]) => ({ key: k, diagnosed: c.diagnosed, onset: isoDay(c.onset) })),
  });
}

export function generateChunk(world: World, chunk: number): ChunkResult {
  const quota = Math.min(world.chunkSize, world.persons - chunk * world.chunkSize);
  const rng = new Rng(world.seed, chunk, 0xc4);
  const ids = new IdAllocator(chunk, world.chunks);
  const households = generateHouseholds(world, chunk, rng, ids, quota);
  const gbk = new Set(world.county.institutions.filter((i) => i.encoding === 'gbk').map((i) => i.feedDir));
  const out = new ChunkOutput((file) => gbk.has(file.slice(0, file.lastIndexOf('/'))), (text) => iconv.encode(text, 'gbk'));
  const ctx = new RenderContext(world, chunk, new Rng(world.seed, chunk, 0xfeed), out);
  const ph = world.roles.publicHealth;
  const archiveSeq = new Map<string, number>();
  const archiveNo = (p: Person) => {
    const n = (archiveSeq.get(p.villageCode) ?? 0) + 1;
    archiveSeq.set(p.villageCode, n);
    return `${p.villageCode}${String(chunk).padStart(3, '0')}${String(n).padStart(3, '0')}`;
  };
  let n = 0;
  for (const hh of households) {
    if (++n % 400 === 0) out.flush();
    for (const p of hh.members) assignHealth(world, p, rng);
    const birthInst = new Map<string, number>();
    for (const p of hh.members) {
      const babies = hh.members.filter((m) => m.motherId === p.id);
      const events = careEvents(world, p, babies, rng, p.motherId ? birthInst.get(p.id) : undefined);
      renderPerson(ctx, hh, p, events, birthInst, archiveNo, ph);
      out.persons.write(`${personTruth(world, p)}\n`);
    }
  }
  return {
    chunk, persons: quota, households: households.length, outbreakCases: out.outbreakCases,
    feeds: out.feeds(), truth: out.truth.bytes(), persons_: out.persons.bytes(), mrns: out.mrns.bytes(), counts: [...out.counts],
  };
}

/** The buffers of a result, for a zero-copy transfer to the main thread. */
export function transferList(r: ChunkResult): ArrayBuffer[] {
  return [...r.feeds.map(([, b]) => b.buffer as ArrayBuffer), r.truth.buffer as ArrayBuffer, r.persons_.buffer as ArrayBuffer, r.mrns.buffer as ArrayBuffer];
}

function renderPerson(ctx: RenderContext, hh: Household, p: Person, events: ReturnType<typeof careEvents>, birthInst: Map<string, number>, archiveNo: (p: Person) => string, ph: number): void {
  const world = ctx.world;
  const mother = p.motherId ? hh.members.find((m) => m.id === p.motherId) : undefined;
  let phReg: ReturnType<RenderContext['registration']>['reg'] | undefined;
  const doctor = DOCTORS[(p.townshipIdx + p.villageIdx) % DOCTORS.length];
  const team = `${world.county.divisions[p.townshipIdx].name}家庭医生第${(p.villageIdx % 3) + 1}团队`;
  for (const e of events) {
    if (e.kind !== 'visit') {
      phReg ??= ctx.registration(ph, p, hh, e.day, { archiveNo: archiveNo(p) }).reg;
      renderPublicHealthCsv(ctx, ph, phReg, e, { doctor, team, birth: p.birth, sex: p.sex });
      continue;
    }
    if (e.babyId) birthInst.set(e.babyId, e.inst);
    if (e.outbreak) ctx.out.outbreakCases++;
    const newborn = e.dx[0] === 'newborn';
    const { reg, previous } = ctx.registration(e.inst, p, hh, e.day, { newborn, mother, unknown: e.unknownPatient });
    const inst = ctx.inst(e.inst);
    if (inst.format === 'hl7v2') renderVisitHl7(ctx, e.inst, reg, e, previous);
    else if (inst.format === 'fhir') renderVisitFhir(ctx, e.inst, reg, e);
    else {
      if (!ctx.sentPatients.has(`${e.inst}|${reg.mrn}`)) {
        ctx.sentPatients.add(`${e.inst}|${reg.mrn}`);
        patientRow(ctx, e.inst, reg, e.day, e.minute);
      }
      renderVisitCsv(ctx, e.inst, reg, e);
    }
  }
}
