import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../test/support/db.ts';
import type { Db } from '../store/index.ts';
import { blockKeys } from './blocking.ts';
import { featuresOf } from './features.ts';
import { goldenOf } from './golden.ts';
import { matchIncoming } from './match-incoming.ts';
import { personOfPatient, registerDistinctPersons } from './registry.ts';
import { miniCounty } from './testing.ts';

describe(`bulk registration of distinct persons (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let db: Db;
  before(async () => {
    db = await openTestDb();
  });
  after(() => db.close());

  it('gives each record its own person, health card, golden record and blocking keys, and incremental matching finds them', async () => {
    const { inputs, truth } = miniCounty(300, 4711, 0.1);
    const first = inputs.filter((x) => x.patientKey.endsWith('-v0'));
    const later = inputs.filter((x) => !x.patientKey.endsWith('-v0'));
    const feats = first.map((x) => featuresOf(x, db.crypto));
    // Small slices, so that the load goes through several COPYs.
    assert.equal(await registerDistinctPersons(db, feats, 64), first.length);
    assert.equal(await registerDistinctPersons(db, feats, 64), 0, 'known patient_keys are left alone');

    const { rows } = await db.query<{ patient_key: string; person_id: string; health_card: string; golden: unknown; keys: string[] }>(
      `SELECT r.patient_key, p.person_id, p.health_card, p.golden,
         (SELECT array_agg(key ORDER BY key) FROM empi_block b WHERE b.patient_key = r.patient_key) AS keys
       FROM empi_record r JOIN empi_person p ON p.person_id = r.person_id`,
    );
    assert.equal(rows.length, first.length);
    assert.equal(new Set(rows.map((r) => r.person_id)).size, first.length);
    const byKey = new Map(feats.map((f) => [f.patientKey, f]));
    for (const r of rows) {
      const f = byKey.get(r.patient_key)!;
      assert.match(db.crypto.decrypt(r.health_card), /^HC\d{17}[0-9X]$/); // stored encrypted (issue 10)
      assert.deepEqual(r.golden, goldenOf([{ ...f, updatedAt: 0 }]), r.patient_key);
      assert.deepEqual(r.keys, blockKeys(f).sort(), r.patient_key);
    }
    // Every later registration of a registered person links to that person's record, never to another.
    let linked = 0;
    for (const x of later) {
      const res = await matchIncoming(db, x);
      if (res.outcome === 'linked') linked++;
      const person = truth.get(x.patientKey)!;
      const home = first.find((y) => truth.get(y.patientKey) === person)!;
      if (res.outcome === 'linked') assert.equal(res.personId, await personOfPatient(db, home.patientKey), x.patientKey);
    }
    assert.ok(linked >= 0.95 * later.length, `${linked} of ${later.length} linked`);
  });
});
