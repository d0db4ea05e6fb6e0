/**
 * `npm run bench -- empi-incremental [--persons N] [--arrivals A] [--seed S] [--schema NAME] [--drop] [--prewarm]`: incremental
 * matching latency with N persons registered (issue 5 target: p99 < 10 ms at 1,000,000 persons).
 *
 * The registry is built quickly instead of through the batch dedupe of a whole county (that is bench/empi.ts): the
 * synthetic county's population model (src/synth: households, surnames and given names by their real frequencies,
 * GB 11643 IDs, villages, phones) generates N persons; each is registered once, as its own person, with the data-entry
 * errors the generator makes at its default rates (typos, homophones, missing or mistyped IDs, swapped dates, stale
 * or shared phones), through the registry's bulk path (`registerDistinctPersons`: COPY, set-based keys, golden
 * records, name counts, ANALYZE). A deterministic 1 in 40 persons is held out of the registry.
 *
 * Arrivals, drawn from the same population and shuffled: other institutions' registrations of registered persons
 * (fresh errors), held-out persons (brand new), newborns of the period registered as "<mother>之子/之女" under the
 * mother's ID (the generator's newborn rate), and 无名氏 emergency patients. Each is matched one at a time on its own
 * transaction with `matchIncoming`, timed end to end; the outcome is checked against the generator's truth.
 *
 * On PostgreSQL (DATABASE_URL) the registry lives in schema `--schema` (default bench_empi_inc_<N>_<seed>) and is
 * kept and reused by later runs unless `--drop`; arrivals of every run have their own patient keys. PGlite: in memory.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { cpuUsage } from 'node:process';
import type { Patient } from '@medplum/fhirtypes';
import { featuresOf, matchIncoming, personOfPatient, RESIDENT_ID_SYSTEM, type MatchInput } from '../src/empi/index.ts';
import { loadModel } from '../src/empi/model-store.ts';
import { registerDistinctPersons } from '../src/empi/registry.ts';
import type { FieldCrypto } from '../src/crypto/index.ts';
import { openDb, type Db, type Queryable } from '../src/store/index.ts';
import { register, type Registration } from '../src/synth/errors.ts';
import type { Household, Person } from '../src/synth/model.ts';
import { generateHouseholds, IdAllocator } from '../src/synth/population.ts';
import { hash32, Rng } from '../src/synth/prng.ts';
import { buildWorld, worldInput, type World } from '../src/synth/world.ts';

function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
}

/** CPU seconds (user + system) a local process used so far, from /proc; undefined when unreadable (remote server). */
function processCpu(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const GENDER = { '0': 'unknown', '1': 'male', '2': 'female' } as const;
const DAY = 86_400_000;

/** A registration as the institution's system sends its Patient (FHIR R4, resident ID under the national OID). */
function patientOf(reg: Registration, institution: string): Patient {
  const id: NonNullable<Patient['identifier']> = [{ system: `urn:oid:2.16.156.10011.1.${institution}.mrn`, value: reg.mrn, type: { coding: [{ code: 'MR' }] } }];
  if (reg.idNumber) id.push(reg.idType === '03' ? { system: `urn:passport:${reg.nationality}`, value: reg.idNumber, type: { coding: [{ code: 'PPN' }] } } : { system: RESIDENT_ID_SYSTEM, value: reg.idNumber });
  return {
    resourceType: 'Patient',
    identifier: id,
    name: [{ text: reg.name }],
    gender: GENDER[reg.sex],
    ...(reg.birth !== undefined ? { birthDate: new Date(reg.birth * DAY).toISOString().slice(0, 10) } : {}),
    ...(reg.phone ? { telecom: [{ system: 'phone' as const, value: reg.phone }] } : {}),
    ...(reg.address ? { address: [{ text: reg.address, extension: [{ url: 'urn:division', valueCode: reg.divisionCode }] }] } : {}),
  };
}

type Kind = 'registered' | 'new' | 'newborn' | 'unknown';
interface Arrival {
  kind: Kind;
  input: MatchInput;
  /** patient_key of the person's registry record (the truth), when the person is registered. */
  registryKey?: string;
  /** The synthetic person (the generator's truth id). */
  truth: string;
}

const registryKey = (p: Person) => `reg-${p.id}`;
const heldOut = (p: Person, seed: number) => hash32(`${seed}|${p.id}`) % 40 === 0;

/** Every household of the population, chunk by chunk (the generator's own chunking and seeds). */
function* households(world: World): Generator<Household> {
  for (let c = 0; c < world.chunks; c++) {
    const quota = Math.min(world.chunkSize, world.persons - c * world.chunkSize);
    yield* generateHouseholds(world, c, new Rng(world.seed, c, 0xc4), new IdAllocator(c, world.chunks), quota);
  }
}

/** The registry: one record per (not held-out) person, registered at the population registry with the generator's errors. */
function* registryRecords(world: World, crypto: FieldCrypto) {
  const rng = new Rng(world.seed, 0x4e9);
  for (const hh of households(world)) {
    for (const p of hh.members) {
      if (heldOut(p, world.seed)) continue;
      const reg = register(p, `R${p.idx}`, { rates: world.rates, day: world.endDay - 400, household: hh.members, newborn: false, unknown: false }, rng);
      yield featuresOf({ patient: patientOf(reg, '0'), patientKey: registryKey(p), institutionId: 'registry' }, crypto);
    }
  }
}

/** About `n` arrivals spread over the population, shuffled. */
function arrivals(world: World, n: number, run: string): Arrival[] {
  const rng = new Rng(world.seed, 0xa77, hash32(run));
  const share = n / world.persons;
  const out: Arrival[] = [];
  let k = 0;
  for (const hh of households(world)) {
    for (const p of hh.members) {
      const held = heldOut(p, world.seed);
      // Held-out persons are 1/40 of the population; draw them as often as about a tenth of the arrivals.
      if (!rng.chance(held ? share * 4 : share)) continue;
      const inst = String(1 + rng.int(0, 40));
      const mother = p.motherId ? hh.members.find((m) => m.id === p.motherId) : undefined;
      const u = rng.next();
      const kind: Kind = mother && p.bornInPeriod && u < 0.5 ? 'newborn' : u > 0.995 ? 'unknown' : held ? 'new' : 'registered';
      const reg = register(p, `M${++k}`, { rates: world.rates, day: world.endDay, household: hh.members, mother, newborn: kind === 'newborn', unknown: kind === 'unknown' }, rng);
      const input = { patient: patientOf(reg, inst), patientKey: `${run}-${k}`, institutionId: `inst-${inst}` };
      out.push({ kind, input, registryKey: held ? undefined : registryKey(p), truth: p.id });
    }
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function ensureRegistry(db: Db, world: World): Promise<void> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM empi_record WHERE institution_id = 'registry'`);
  if (rows[0].n > 0) {
    console.log(`registry                ${rows[0].n} persons already registered in this schema (reused)`);
    return;
  }
  const t = performance.now();
  const c = cpuUsage();
  const n = await registerDistinctPersons(db, registryRecords(world, db.crypto));
  const s = (performance.now() - t) / 1000;
  const cpu = cpuUsage(c);
  console.log(`registry                ${n} persons built in ${s.toFixed(0)} s (generate + normalise + COPY + keys + golden + VACUUM ANALYZE; node CPU ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s)`);
}

/**
 * `--prewarm` (PostgreSQL): loads the registry's tables and indexes into shared_buffers with the pg_prewarm contrib
 * extension, as they are on a server that has been matching for a while. Without it a fresh bench reads its ~2 GB
 * working set from disk page by page — and on this VM the kernel's proactive reclaim (DAMON) keeps the OS page cache
 * at 1–2 GB, so pages PostgreSQL's own cache cannot hold (128 MB by default) keep coming from disk.
 */
async function prewarm(db: Db): Promise<void> {
  if (db.engine !== 'postgres') return;
  const t = performance.now();
  await db.exec('CREATE EXTENSION IF NOT EXISTS pg_prewarm SCHEMA public');
  const { rows } = await db.query<{ rel: string; mb: number }>(
    `SELECT c.oid::regclass::text AS rel, pg_relation_size(c.oid) / 1048576 AS mb
       FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'i')
        AND c.relname LIKE 'empi\_%' AND c.relname NOT SIMILAR TO 'empi\_(stage|decision|event|batch)%'`,
  );
  for (const r of rows) await db.query('SELECT public.pg_prewarm($1::regclass)', [r.rel]);
  const { rows: sb } = await db.query<{ s: string }>("SELECT current_setting('shared_buffers') AS s");
  const mb = rows.reduce((n, r) => n + Number(r.mb), 0);
  console.log(`prewarm                 ${rows.length} relations, ${mb} MB into shared_buffers ${sb[0].s} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

export async function run(args: string[]): Promise<void> {
  const persons = Number(arg(args, 'persons', '1000000'));
  const nArrivals = Number(arg(args, 'arrivals', '3000')) + 50;
  const seed = Number(arg(args, 'seed', '515151'));
  const url = process.env.DATABASE_URL;
  const schema = url ? arg(args, 'schema', `bench_empi_inc_${persons}_${seed}`) : undefined;
  // One connection: every match runs on the same server backend, whose CPU the bench reads (PostgreSQL on this host).
  const db = await openDb({ databaseUrl: url, schema, poolSize: 1 });
  const world = buildWorld(worldInput({ persons, seed, outDir: '' }));
  try {
    await ensureRegistry(db, world);
    const run = 'a' + randomBytes(3).toString('hex');
    const list = arrivals(world, nArrivals, run);
    const model = await loadModel(db);
    const { rows: size } = await db.query<{ persons: number; records: number; blocks: number }>(
      `SELECT (SELECT count(*)::int FROM empi_person) AS persons, (SELECT count(*)::int FROM empi_record) AS records, (SELECT count(*)::int FROM empi_block) AS blocks`,
    );
    if (args.includes('--prewarm')) await prewarm(db);
    // Warm-up: the first matches pay for connections, plans and caches; not counted.
    const timed: Arrival[] = list.slice(50);
    const lat: number[] = [];
    const results: Array<{ a: Arrival; personId: string; outcome: string }> = [];
    await db.exec('CREATE TABLE IF NOT EXISTS bench_arrival (patient_key text PRIMARY KEY, truth text NOT NULL); CREATE INDEX IF NOT EXISTS bench_arrival_truth ON bench_arrival (truth)');
    const earlier = new Map<Arrival, string[]>();
    for (const a of list) {
      earlier.set(a, (await db.query<{ patient_key: string }>('SELECT patient_key FROM bench_arrival WHERE truth = $1', [a.truth])).rows.map((r) => r.patient_key));
    }
    for (const a of list.slice(0, 50)) await matchIncoming(db, a.input, { model });
    // --statements: wall time of each statement kind of the timed matches (where the time goes; noisy under load).
    const perStatement = new Map<string, number[]>();
    if (args.includes('--statements')) {
      const tx0 = db.transaction.bind(db);
      const timed = (q: Queryable): Queryable => ({
        exec: (sql) => q.exec(sql),
        query: async (sql, params, options) => {
          const t = performance.now();
          const r = await q.query(sql, params, options);
          const k = sql.replace(/\s+/g, ' ').slice(0, 48);
          (perStatement.get(k) ?? perStatement.set(k, []).get(k)!).push(performance.now() - t);
          return r as never;
        },
      });
      db.transaction = (fn) => tx0((tx) => fn(timed(tx)));
    }
    const backend = db.engine === 'postgres' ? (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid : undefined;
    const server0 = backend ? processCpu(backend) : undefined;
    const cpu0 = cpuUsage();
    const t0 = performance.now();
    for (const a of timed) {
      const s = performance.now();
      const r = await matchIncoming(db, a.input, { model });
      lat.push(performance.now() - s);
      results.push({ a, personId: r.personId, outcome: r.outcome });
    }
    const wall = performance.now() - t0;
    const cpu = cpuUsage(cpu0);
    const server1 = backend ? processCpu(backend) : undefined;
    lat.sort((x, y) => x - y);
    // Truth check (outside the timing): a link is right when it goes to the person of the arrival's registry record
    // or of an earlier arrival of the same synthetic person; a 无名氏 is never to be linked automatically.
    const mix = new Map<string, number>();
    let falseLinks = 0;
    let missed = 0;
    for (const { a, personId, outcome } of results) {
      const keys = [...(a.registryKey ? [a.registryKey] : []), ...earlier.get(a)!];
      const allowed = new Set<string | undefined>();
      for (const k of keys) allowed.add(await personOfPatient(db, k));
      if (outcome === 'linked' && (!allowed.has(personId) || a.kind === 'unknown')) falseLinks++;
      if (a.kind === 'registered' && outcome !== 'linked') missed++;
      const key = `${a.kind}→${outcome}`;
      mix.set(key, (mix.get(key) ?? 0) + 1);
    }
    await db.query('INSERT INTO bench_arrival (patient_key, truth) SELECT * FROM unnest($1::text[], $2::text[])', [list.map((a) => a.input.patientKey), list.map((a) => a.truth)]);
    const f = (x: number | undefined) => (x ?? NaN).toFixed(2);
    console.log(`engine                  ${db.engine}${schema ? ` (schema ${schema})` : ''}`);
    console.log(`registry size           ${size[0].persons} persons, ${size[0].records} records, ${size[0].blocks} blocking keys; model ${model.params.source}`);
    console.log(`arrivals                ${lat.length} timed after 50 warm-up (${[...new Set(timed.map((x) => x.kind))].map((k) => `${k} ${timed.filter((x) => x.kind === k).length}`).join(', ')})`);
    console.log(`incremental match       p50 ${f(pct(lat, 50))} ms  p95 ${f(pct(lat, 95))} ms  p99 ${f(pct(lat, 99))} ms  max ${f(lat.at(-1))} ms`);
    console.log(`throughput              ${(lat.length / (wall / 1000)).toFixed(0)} matches/s on one connection`);
    const serverMs = server0 !== undefined && server1 !== undefined ? ((server1 - server0) * 1000) / lat.length : undefined;
    const nodeMs = (cpu.user + cpu.system) / 1000 / lat.length;
    console.log(`CPU per match           node ${nodeMs.toFixed(2)} ms + PostgreSQL backend ${serverMs === undefined ? 'n/a' : serverMs.toFixed(2) + ' ms'} (load-independent; wall-clock waits on a busy machine)`);
    console.log(`load average            ${loadavg().map((x) => x.toFixed(1)).join(' ')} (2 cores: figures above ~2 mean the timings include waiting for a CPU)`);
    console.log(`outcome mix             ${[...mix].sort().map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.log(`truth                   false links ${falseLinks}; registered persons not auto-linked ${missed} (${((100 * missed) / Math.max(1, timed.filter((x) => x.kind === 'registered').length)).toFixed(1)} %)`);
    for (const [k, v] of perStatement) {
      v.sort((x, y) => x - y);
      console.log(`  statement ×${String(v.length).padEnd(5)} avg ${(v.reduce((x, y) => x + y, 0) / v.length).toFixed(2)} ms  p99 ${f(pct(v, 99))} ms  ${k}`);
    }
    console.log(`target                  p99 < 10 ms with 1,000,000 persons registered`);
  } finally {
    if (schema && args.includes('--drop')) await db.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
}
