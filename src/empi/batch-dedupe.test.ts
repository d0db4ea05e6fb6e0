import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../test/support/db.ts';
import type { Db } from '../store/index.ts';
import { batchDedupe } from './batch-dedupe.ts';
import { evaluateAgainst } from './evaluate.ts';
import { matchIncoming } from './match-incoming.ts';
import { loadModel } from './model-store.ts';
import { stageRecords } from './stage.ts';
import { miniCounty } from './testing.ts';

const engine = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';

describe(`batch dedupe of a county load (${engine})`, () => {
  let db: Db;
  const county = miniCounty(1500, 11, 0.15);
  before(async () => {
    db = await openTestDb();
  });
  after(() => db.close());

  it('links the registrations of each person with high precision and recall, training m/u by EM', async () => {
    assert.equal(await stageRecords(db, county.inputs), county.inputs.length);
    const res = await batchDedupe(db, { sample: 50_000 });
    assert.equal(res.records, county.inputs.length);
    const model = await loadModel(db);
    assert.equal(model.params.source, 'em');
    // EM learnt that exact birth-date agreement is far likelier among matches than among non-matches.
    assert.ok(model.params.levels.dob.m[0] > 0.8 && model.params.levels.dob.u[0] < 0.01, JSON.stringify(model.params.levels.dob));
    const e = await evaluateAgainst(db, county.truth);
    assert.ok(e.precision >= 0.995, `precision ${e.precision}`);
    assert.ok(e.recall >= 0.97, `recall ${e.recall}`);
    assert.ok(e.reviewPercentOfPersons <= 5, `review ${e.reviewPercentOfPersons}%`);
    // Stored encrypted (issue 10): read through the keys.
    const { rows } = await db.query<{ health_card: string | null }>('SELECT health_card FROM empi_person');
    const bad = rows.filter((r) => !r.health_card || !/^HC[0-9]{17}[0-9X]$/.test(db.crypto.decrypt(r.health_card)));
    assert.equal(bad.length, 0, 'every person has a well-formed health card number');
  });

  it('then matches newly arriving registrations incrementally against the batch result', async () => {
    const more = miniCounty(200, 12, 0.15);
    // Re-register persons of the first load at a new institution: they must join their existing persons.
    const again = county.inputs.filter((_, i) => i % 10 === 0).map((x) => ({ ...x, patientKey: x.patientKey + '-again', institutionId: 'inst-new' }));
    const truth = new Map(county.truth);
    for (const x of again) truth.set(x.patientKey, county.truth.get(x.patientKey.replace(/-again$/, ''))!);
    for (const [k, v] of more.truth) truth.set(k, v);
    for (const x of [...again, ...more.inputs]) await matchIncoming(db, x);
    const e = await evaluateAgainst(db, truth);
    assert.ok(e.precision >= 0.995, `precision ${e.precision}`);
    assert.ok(e.recall >= 0.97, `recall ${e.recall}`);
  });
});
