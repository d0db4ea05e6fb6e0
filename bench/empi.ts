/**
 * `npm run bench -- empi [--persons N] [--seed S] [--county DIR] [--holdout F]`: EMPI accuracy and speed on a
 * synthetic county (issue 5 targets: auto-link precision ≥ 0.999, recall ≥ 0.99, review ≤ 1 % of persons; 1M records
 * batch < 5 min on 2 cores; incremental p99 < 10 ms at 1M persons). PostgreSQL when DATABASE_URL is set, else PGlite.
 *
 * The county is generated with the synth module (default 20,000 persons, seed 424242 — a seed no test uses) and
 * cached in the temp dir. A share of the Patients (`--holdout`, default 2 %) is held out of the batch load and then
 * matched one by one in incremental mode, which gives the latency figures and the accuracy after incremental growth.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { batchDedupe, matchIncoming, stageRecords } from '../src/empi/index.ts';
import { evaluateAgainst } from '../src/empi/evaluate.ts';
import { readSynthPatients, readSynthTruth } from '../src/empi/synth-feeds.ts';
import { openDb } from '../src/store/index.ts';
import { generateCounty } from '../src/synth/index.ts';

function arg(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

export async function run(args: string[]): Promise<void> {
  const persons = Number(arg(args, 'persons', '20000'));
  const seed = Number(arg(args, 'seed', '424242'));
  const holdout = Number(arg(args, 'holdout', '0.02'));
  const dir = arg(args, 'county', join(tmpdir(), `healthbrain-bench-empi-${persons}-${seed}`));
  if (!existsSync(join(dir, 'county.json'))) {
    console.log(`generating a county of ${persons} persons (seed ${seed}) in ${dir} …`);
    await generateCounty({ persons, seed, outDir: dir });
  }
  let t = performance.now();
  const { inputs } = readSynthPatients(dir);
  const truth = readSynthTruth(join(dir, 'truth'));
  console.log(`read ${inputs.length} institution-level Patients in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const url = process.env.DATABASE_URL;
  const schema = url ? 'bench_empi_' + randomBytes(4).toString('hex') : undefined;
  const db = await openDb({ databaseUrl: url, schema });
  try {
    // Deterministic hold-out: every record whose position hashes below the share.
    const held = inputs.filter((_, i) => ((i * 2654435761) >>> 0) / 2 ** 32 < holdout);
    const heldKeys = new Set(held.map((x) => x.patientKey));
    const batch = inputs.filter((x) => !heldKeys.has(x.patientKey));

    t = performance.now();
    await stageRecords(db, batch);
    const stageS = (performance.now() - t) / 1000;
    t = performance.now();
    const res = await batchDedupe(db, {});
    const batchS = (performance.now() - t) / 1000;
    const e1 = await evaluateAgainst(db, truth);

    const lat: number[] = [];
    for (const x of held) {
      const s = performance.now();
      await matchIncoming(db, x);
      lat.push(performance.now() - s);
    }
    lat.sort((a, b) => a - b);
    const e2 = await evaluateAgainst(db, truth);

    const f = (x: number) => x.toFixed(4);
    console.log(`engine                 ${db.engine}`);
    console.log(`county                 ${persons} persons, seed ${seed}: ${inputs.length} Patients (${batch.length} batch + ${held.length} incremental)`);
    console.log(`stage (normalise+COPY) ${stageS.toFixed(1)} s (${Math.round(batch.length / stageS)} records/s)`);
    console.log(`batch dedupe           ${batchS.toFixed(1)} s (${Math.round(batch.length / batchS)} records/s; ${res.pairs} blocked pairs; steps ${JSON.stringify(res.seconds)})`);
    console.log(`after batch            precision ${f(e1.precision)}  recall ${f(e1.recall)}  F1 ${f(e1.f1)}  review ${e1.reviewPending} (${e1.reviewPercentOfPersons.toFixed(2)} % of persons)`);
    console.log(`incremental match      p50 ${pct(lat, 50)?.toFixed(1)} ms  p99 ${pct(lat, 99)?.toFixed(1)} ms  max ${lat.at(-1)?.toFixed(1)} ms over ${lat.length}`);
    console.log(`after incremental      precision ${f(e2.precision)}  recall ${f(e2.recall)}  F1 ${f(e2.f1)}  review ${e2.reviewPending} (${e2.reviewPercentOfPersons.toFixed(2)} % of persons)  recall if reviews decided ${f(e2.recallAfterReview)}`);
    console.log(`targets                precision ≥ 0.999, recall ≥ 0.99, review ≤ 1 %, 1M-record batch < 300 s, incremental p99 < 10 ms at 1M`);
  } finally {
    if (schema) await db.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
}
