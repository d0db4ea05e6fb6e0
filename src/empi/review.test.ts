import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../test/support/db.ts';
import type { Db } from '../store/index.ts';
import { batchDedupe } from './batch-dedupe.ts';
import { matchIncoming } from './match-incoming.ts';
import { personOfPatient } from './registry.ts';
import { decideReview, enqueueReview, getReview, labelledPairs, listReviews } from './review.ts';
import { stageRecords } from './stage.ts';
import { patientInput } from './testing.ts';
import { trainModel } from './train.ts';

describe(`review queue (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let db: Db;
  before(async () => {
    db = await openTestDb();
  });
  after(() => db.close());

  it('queues a grey-zone pair, shows both records with the evidence, and a link decision merges the persons', async () => {
    const a = await matchIncoming(db, patientInput({ name: '孙丽萍', birthDate: '1969-09-01', gender: 'female', village: '330523103201' }));
    const b = await matchIncoming(db, patientInput({ name: '孙丽萍', birthDate: '1969-09-01', gender: 'female', village: '330523103207' }));
    assert.equal(b.outcome, 'review', JSON.stringify(b));
    const { items } = await listReviews(db);
    const item = items.find((i) => [i.patientKeyA, i.patientKeyB].includes(b.patientKey))!;
    const view = (await getReview(db, item.reviewId))!;
    assert.deepEqual([view.a.record.patientKey, view.b.record.patientKey].sort(), [a.patientKey, b.patientKey].sort());
    assert.ok(view.item.evidence.some((e) => e.field === 'name' && e.level === 'exact'));
    assert.ok(view.a.person?.golden.name);
    const d = await db.transaction((tx) => decideReview(tx, item.reviewId, 'link', { actor: 'dr-li' }));
    assert.ok(d.mergeEventId);
    assert.equal(await personOfPatient(db, a.patientKey), await personOfPatient(db, b.patientKey));
    assert.deepEqual(await labelledPairs(db), [{ a: item.patientKeyA, b: item.patientKeyB, match: true }]);
    await assert.rejects(db.transaction((tx) => decideReview(tx, item.reviewId, 'not-link')), /already decided/);
  });

  it('keeps a not-link decision in later batch runs and feeds the decisions to training', async () => {
    const spec = { name: '钱国栋', birthDate: '1958-02-02', gender: 'male' as const, village: '330523104201' };
    const x = patientInput(spec);
    const y = patientInput({ ...spec, village: '330523104209' });
    const z = patientInput({ name: '钱国梁', birthDate: '1958-02-02', gender: 'male', village: '330523104201' });
    await stageRecords(db, [x, y, z]);
    // An operator already said x and y are different persons (e.g. from a previous run's queue).
    const id = (await enqueueReview(db, x.patientKey, y.patientKey, 5, [], 'grey zone'))!;
    await db.transaction((tx) => decideReview(tx, id, 'not-link', { actor: 'dr-li' }));
    // Thresholds so permissive that every blocked pair would link: only the decision keeps x and y apart.
    await batchDedupe(db, { train: false, thresholds: { link: -1000, review: -2000 } });
    assert.notEqual(await personOfPatient(db, x.patientKey), await personOfPatient(db, y.patientKey));
    assert.equal(await personOfPatient(db, x.patientKey), await personOfPatient(db, z.patientKey), 'the permissive run links the rest');
    const t = await trainModel(db, { sample: 2000 });
    assert.equal(t.labelledPairs, 2);
  });
});
