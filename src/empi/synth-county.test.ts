import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { openTestDb } from '../../test/support/db.ts';
import type { Db } from '../store/index.ts';
import { generateCounty } from '../synth/index.ts';
import { batchDedupe } from './batch-dedupe.ts';
import { evaluateAgainst } from './evaluate.ts';
import { matchIncoming } from './match-incoming.ts';
import { stageRecords } from './stage.ts';
import { readSynthPatients, readSynthTruth } from './synth-feeds.ts';

const engine = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';

describe(`EMPI on a generated synthetic county (${engine})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'empi-synth-'));
  let db: Db;
  let truth: Map<string, string>;
  let errors: Map<string, string[]>;
  let inputs: ReturnType<typeof readSynthPatients>['inputs'];
  before(async () => {
    await generateCounty({ persons: 600, seed: 3, outDir: dir });
    inputs = readSynthPatients(dir).inputs;
    truth = readSynthTruth(join(dir, 'truth'));
    const rows = parse(readFileSync(join(dir, 'truth', 'mrns.csv'), 'utf8'), { columns: true }) as Array<{ inst: string; mrn: string; errors: string }>;
    errors = new Map(rows.map((r) => [`${r.inst}|${r.mrn}`, r.errors ? r.errors.split(' ') : []]));
    db = await openTestDb();
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** For each error type: records carrying it whose true person has other records, and how many are linked to them. */
  async function linkedByErrorType(): Promise<Map<string, { n: number; linked: number }>> {
    const { rows } = await db.query<{ patient_key: string; pid: string }>(
      `SELECT r.patient_key, empi_resolve(r.person_id) AS pid FROM empi_record r`,
    );
    const personOf = new Map(rows.map((r) => [r.patient_key, r.pid]));
    const byTrue = new Map<string, string[]>();
    for (const k of personOf.keys()) byTrue.set(truth.get(k)!, [...(byTrue.get(truth.get(k)!) ?? []), k]);
    const out = new Map<string, { n: number; linked: number }>();
    for (const [k, errs] of errors) {
      if (!personOf.has(k)) continue;
      const others = (byTrue.get(truth.get(k)!) ?? []).filter((x) => x !== k && !(errors.get(x) ?? []).some((e) => e === 'unknownPatient' || e === 'newbornUnderMother'));
      if (!others.length) continue;
      for (const e of errs.length ? errs : ['none']) {
        const s = out.get(e) ?? { n: 0, linked: 0 };
        s.n++;
        if (others.some((o) => personOf.get(o) === personOf.get(k))) s.linked++;
        out.set(e, s);
      }
    }
    return out;
  }

  it('batch mode links every kind of registration error and never links strangers', async () => {
    await stageRecords(db, inputs);
    await batchDedupe(db, { sample: 20_000 });
    const e = await evaluateAgainst(db, truth);
    assert.equal(e.precision, 1, `precision ${e.precision}`);
    assert.ok(e.recall >= 0.98, `recall ${e.recall}`);
    assert.ok(e.reviewPercentOfPersons <= 2, `review ${e.reviewPercentOfPersons} %`);
    const stats = await linkedByErrorType();
    const kinds = ['none', 'homophone', 'nameTypo', 'traditional', 'idMissing', 'idOneDigit', 'idTransposed', 'id15', 'idFullWidth', 'idLowercaseX', 'sexMissing', 'stalePhone', 'sharedPhone', 'dayMonthSwap'];
    const seen = kinds.filter((k) => stats.has(k));
    assert.ok(seen.length >= 10, `the county exercises most error kinds (${seen.join(' ')})`);
    for (const k of seen) {
      const s = stats.get(k)!;
      assert.ok(s.linked / s.n >= 0.9, `${k}: ${s.linked}/${s.n} linked`);
    }
    // Newborns registered under the mother's ID and unknown emergency patients are never linked automatically.
    for (const special of ['newbornUnderMother', 'unknownPatient']) {
      for (const [k, errs] of errors) {
        if (!errs.includes(special)) continue;
        const { rows } = await db.query<{ patient_key: string }>(
          `SELECT o.patient_key FROM empi_record r JOIN empi_record o ON empi_resolve(o.person_id) = empi_resolve(r.person_id) AND o.patient_key <> r.patient_key WHERE r.patient_key = $1`,
          [k],
        );
        for (const o of rows) assert.equal(truth.get(o.patient_key), truth.get(k), `${special} ${k} linked to another person's ${o.patient_key}`);
      }
    }
  });

  it('incremental mode gives the same accuracy when the same county arrives record by record', async () => {
    const db2 = await openTestDb();
    try {
      // The model trained by the batch run, as a deployment would carry it over.
      const { rows } = await db.query<{ params: unknown }>('SELECT params FROM empi_model ORDER BY model_id DESC LIMIT 1');
      await db2.query('INSERT INTO empi_model (params) VALUES ($1)', [JSON.stringify(rows[0].params)]);
      // The records of 200 of the persons (all their registrations, in feed order) keep the suite fast.
      const persons = new Set([...new Set(inputs.map((x) => truth.get(x.patientKey)!))].sort().slice(0, 200));
      for (const x of inputs) if (persons.has(truth.get(x.patientKey)!)) await matchIncoming(db2, x);
      const e = await evaluateAgainst(db2, truth);
      assert.ok(e.records > 300, `records ${e.records}`);
      assert.ok(e.precision >= 0.999, `precision ${e.precision}`);
      assert.ok(e.recall >= 0.97, `recall ${e.recall}`);
    } finally {
      await db2.close();
    }
  });
});
