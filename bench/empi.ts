/**
 * `npm run bench -- empi [--persons N] [--seed S] [--county DIR] [--holdout F] [--schema NAME] [--drop]
 * [--stage-only] [--skip-incremental]`: EMPI
 * accuracy and speed on a synthetic county (issue 5 targets: auto-link precision ≥ 0.999, recall ≥ 0.99, review ≤ 1 %
 * of persons; 1M records batch < 5 min on 2 cores; incremental p99 < 10 ms at 1M persons). PostgreSQL when
 * DATABASE_URL is set, else PGlite.
 *
 * The county is generated with the synth module (default 20,000 persons, seed 424242 — a seed no test uses) and
 * cached in the temp dir (or `--county DIR`), so later runs reuse it. Its feeds are streamed (bounded memory) and
 * staged in chunks. A share of the Patients (`--holdout`, default 2 %) is held out of the batch load and then matched
 * one by one in incremental mode, which gives the latency figures and the accuracy after incremental growth.
 *
 * PostgreSQL, `--schema NAME`: the staged load (records before dedupe, and the held-out Patients) is kept in that
 * schema, and a later run with the same name restores it instead of reading and staging the county again — at 350,000
 * persons that saves several minutes per run. `--drop` drops the schema at the end. Without `--schema` a throw-away
 * schema is used. `--stage-only` stops after staging (to prepare a kept schema); `--skip-incremental` skips the
 * one-by-one matching of the held-out Patients (minutes at a million records).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchDedupe, matchIncoming, stageRecords, type MatchInput } from '../src/empi/index.ts';
import { evaluateAgainst } from '../src/empi/evaluate.ts';
import { readSynthTruth, streamSynthPatients } from '../src/empi/synth-feeds.ts';
import { openDb, type Db } from '../src/store/index.ts';
import { generateCounty } from '../src/synth/index.ts';

function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const secs = (t: number) => (performance.now() - t) / 1000;
const STAGE_CHUNK = 50_000;

const lastCpu = new Map<number, number>();

/**
 * CPU seconds of the PostgreSQL backends given (server on this machine; parallel workers not included). A backend
 * that ended (an idle pool connection closed) keeps its last figure, so the sum never goes down.
 */
function backendCpu(pids: number[]): number {
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      lastCpu.set(pid, (Number(f[11] ?? 0) + Number(f[12] ?? 0)) / 100); // utime + stime, clock ticks (USER_HZ = 100)
    } catch {
      // ended, or not on this machine
    }
  }
  return pids.reduce((s, pid) => s + (lastCpu.get(pid) ?? 0), 0);
}

/** The pids of every connection of the pool: holding them all at once reveals each. */
async function poolPids(db: Db, size: number): Promise<number[]> {
  const pids = await Promise.all(
    Array.from({ length: size }, () => db.transaction(async (q) => (await q.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.1)')).rows[0].pid)),
  );
  return [...new Set(pids)];
}

/** Reads the county's feeds (streamed) and stages all but the held-out Patients; returns the held-out ones. */
async function readAndStage(db: Db, dir: string, holdout: number): Promise<{ held: MatchInput[]; batch: number; readS: number; stageS: number }> {
  const held: MatchInput[] = [];
  let chunk: MatchInput[] = [];
  let i = 0;
  let batch = 0;
  let stageS = 0;
  const t0 = performance.now();
  const flush = async () => {
    const t = performance.now();
    await stageRecords(db, chunk);
    stageS += secs(t);
    batch += chunk.length;
    chunk = [];
  };
  for await (const x of streamSynthPatients(dir)) {
    // Deterministic hold-out: every record whose position hashes below the share.
    if (((i++ * 2654435761) >>> 0) / 2 ** 32 < holdout) held.push(x);
    else chunk.push(x);
    if (chunk.length >= STAGE_CHUNK) await flush();
  }
  await flush();
  return { held, batch, readS: secs(t0) - stageS, stageS };
}

/** Every EMPI table of the schema back to the staged load kept by an earlier run. */
async function restoreStaged(db: Db): Promise<void> {
  const { rows } = await db.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'empi\\_%'`);
  await db.exec(`TRUNCATE ${rows.map((r) => r.t).join(', ')} CASCADE`);
  await db.exec('INSERT INTO empi_record SELECT * FROM bench_staged');
}

export async function run(args: string[]): Promise<void> {
  const persons = Number(arg(args, 'persons', '20000'));
  const seed = Number(arg(args, 'seed', '424242'));
  const holdout = Number(arg(args, 'holdout', '0.02'));
  const dir = arg(args, 'county', join(tmpdir(), `healthbrain-bench-empi-${persons}-${seed}`));
  const url = process.env.DATABASE_URL;
  const keep = url ? arg(args, 'schema', '') : '';
  if (!existsSync(join(dir, 'county.json'))) {
    console.log(`generating a county of ${persons} persons (seed ${seed}) in ${dir} …`);
    await generateCounty({ persons, seed, outDir: dir });
  }
  const schema = url ? keep || 'bench_empi_' + randomBytes(4).toString('hex') : undefined;
  const db = await openDb({ databaseUrl: url, schema });
  try {
    let held: MatchInput[];
    let batchN: number;
    let stageLine: string;
    const kept = keep && (await db.query<{ t: string | null }>(`SELECT to_regclass('bench_staged')::text AS t`)).rows[0].t !== null;
    if (kept) {
      const t = performance.now();
      await restoreStaged(db);
      held = (await db.query<{ input: MatchInput }>('SELECT input FROM bench_holdout ORDER BY seq')).rows.map((r) => r.input);
      batchN = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM empi_record')).rows[0].n;
      stageLine = `restored the staged load of schema ${schema} in ${secs(t).toFixed(1)} s`;
    } else {
      const r = await readAndStage(db, dir, holdout);
      held = r.held;
      batchN = r.batch;
      stageLine = `read ${(r.readS).toFixed(1)} s (streamed); stage (normalise+COPY) ${r.stageS.toFixed(1)} s (${Math.round(r.batch / r.stageS)} records/s)`;
      if (keep) {
        await db.exec('CREATE TABLE bench_staged AS SELECT * FROM empi_record; CREATE TABLE bench_holdout (seq int PRIMARY KEY, input jsonb NOT NULL)');
        for (let i = 0; i < held.length; i += 5000) {
          const part = held.slice(i, i + 5000);
          await db.query('INSERT INTO bench_holdout (seq, input) SELECT * FROM unnest($1::int[], $2::jsonb[])', [part.map((_, j) => i + j), part.map((x) => JSON.stringify(x))]);
        }
      }
    }
    console.log(stageLine);
    if (args.includes('--stage-only')) return;
    const truth = readSynthTruth(join(dir, 'truth'));

    const pids = url ? await poolPids(db, 10) : [];
    const cpu0 = { node: process.cpuUsage(), pg: backendCpu(pids) };
    // Per step: wall seconds, then the CPU seconds of node and of the PostgreSQL backend — on a loaded machine the
    // CPU figures are the ones to read.
    let step = { node: process.cpuUsage(), pg: cpu0.pg };
    const log = (m: string) => {
      const now = { node: process.cpuUsage(), pg: backendCpu(pids) };
      const n = process.cpuUsage(step.node);
      console.log(`  ${m}  (CPU node ${((n.user + n.system) / 1e6).toFixed(1)} s${url ? `, PostgreSQL ${(now.pg - step.pg).toFixed(1)} s` : ''})`);
      step = now;
    };
    let t = performance.now();
    const res = await batchDedupe(db, { log });
    const batchS = secs(t);
    const nodeCpu = process.cpuUsage(cpu0.node);
    const pgCpu = backendCpu(pids) - cpu0.pg;
    const load = loadavg()[0];
    const e1 = await evaluateAgainst(db, truth);

    const lat: number[] = [];
    for (const x of args.includes('--skip-incremental') ? [] : held) {
      const s = performance.now();
      await matchIncoming(db, x);
      lat.push(performance.now() - s);
    }
    lat.sort((a, b) => a - b);
    const e2 = await evaluateAgainst(db, truth);

    const f = (x: number) => x.toFixed(4);
    console.log(`engine                 ${db.engine}`);
    console.log(`county                 ${persons} persons, seed ${seed}: ${batchN + held.length} Patients (${batchN} batch + ${held.length} incremental)`);
    console.log(`load                   ${stageLine}`);
    console.log(`batch dedupe           ${batchS.toFixed(1)} s (${Math.round(batchN / batchS)} records/s; ${res.pairs} blocked pairs; steps ${JSON.stringify(res.seconds)})`);
    console.log(
      `batch CPU              node ${((nodeCpu.user + nodeCpu.system) / 1e6).toFixed(1)} s` +
        (url ? ` + PostgreSQL backend ${pgCpu.toFixed(1)} s (parallel workers not counted)` : ' (PGlite runs in-process)') +
        `; load average ${load.toFixed(1)} on ${cpus().length} cores at the end of the batch`,
    );
    console.log(`after batch            precision ${f(e1.precision)}  recall ${f(e1.recall)}  F1 ${f(e1.f1)}  review ${e1.reviewPending} (${e1.reviewPercentOfPersons.toFixed(2)} % of persons)`);
    if (lat.length) console.log(`incremental match      p50 ${pct(lat, 50).toFixed(1)} ms  p99 ${pct(lat, 99).toFixed(1)} ms  max ${lat.at(-1)!.toFixed(1)} ms over ${lat.length}`);
    else console.log(`incremental match      skipped (--skip-incremental)`);
    console.log(`after incremental      precision ${f(e2.precision)}  recall ${f(e2.recall)}  F1 ${f(e2.f1)}  review ${e2.reviewPending} (${e2.reviewPercentOfPersons.toFixed(2)} % of persons)  recall if reviews decided ${f(e2.recallAfterReview)}`);
    console.log(`targets                precision ≥ 0.999, recall ≥ 0.99, review ≤ 1 %, 1M-record batch < 300 s, incremental p99 < 10 ms at 1M`);
  } finally {
    if (schema && (!keep || args.includes('--drop'))) await db.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
}
