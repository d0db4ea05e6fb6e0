import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../test/support/db.ts';
import type { Db } from '../store/index.ts';
import { matchIncoming } from './match-incoming.ts';
import { applyPatientLinks, mergeByA40, mergePersons, personHistory, unmergePersons } from './merge.ts';
import { getPerson, patientKeysOfPerson, personOfPatient } from './registry.ts';
import { patientInput } from './testing.ts';

describe(`merge and unmerge (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let db: Db;
  before(async () => {
    db = await openTestDb();
  });
  after(() => db.close());

  async function person(name: string, birthDate: string, extra = 0) {
    const keys: string[] = [];
    let pid = '';
    for (let i = 0; i <= extra; i++) {
      const r = await matchIncoming(db, patientInput({ name, birthDate, gender: 'female', phone: `1370000${birthDate.replace(/-/g, '').slice(2, 6)}`, village: '330523105001' }));
      keys.push(r.patientKey);
      pid = r.personId;
    }
    return { pid, keys: keys.sort() };
  }

  async function allLinks(): Promise<Array<[string, string]>> {
    const { rows } = await db.query<{ patient_key: string }>('SELECT patient_key FROM empi_record ORDER BY patient_key');
    const out: Array<[string, string]> = [];
    for (const r of rows) out.push([r.patient_key, (await personOfPatient(db, r.patient_key))!]);
    return out;
  }

  it('merges two persons so that each patient key resolves to the survivor, and unmerge restores every link exactly', async () => {
    const a = await person('陈美玲', '1971-04-09', 2);
    const b = await person('赵桂香', '1948-12-30', 1);
    const c = await person('孙志强', '1990-07-07');
    assert.deepEqual(await patientKeysOfPerson(db, a.pid), a.keys);
    const before = await allLinks();
    const ev = await db.transaction((tx) => mergePersons(tx, a.pid, b.pid, { actor: 'tester' }));
    assert.ok(ev);
    assert.deepEqual(await patientKeysOfPerson(db, a.pid), [...a.keys, ...b.keys].sort());
    for (const k of b.keys) assert.equal(await personOfPatient(db, k), a.pid);
    assert.equal((await getPerson(db, b.pid))?.mergedInto, a.pid);
    // A chain: the survivor is merged on; keys of b follow.
    const ev2 = await db.transaction((tx) => mergePersons(tx, c.pid, a.pid));
    for (const k of b.keys) assert.equal(await personOfPatient(db, k), c.pid);
    await db.transaction((tx) => unmergePersons(tx, ev2!));
    await db.transaction((tx) => unmergePersons(tx, ev!));
    assert.deepEqual(await allLinks(), before);
    assert.deepEqual(await patientKeysOfPerson(db, b.pid), b.keys);
    await assert.rejects(db.transaction((tx) => unmergePersons(tx, ev!)), /already undone/);
    const history = await personHistory(db, a.pid);
    assert.deepEqual(history.map((h) => h.kind).filter((k) => k === 'merge' || k === 'unmerge'), ['merge', 'merge', 'unmerge', 'unmerge']);
  });

  it('keeps the golden record with the source of each field, and recomputes it after a merge', async () => {
    const a = await person('钱秀兰', '1955-05-05');
    const b = await person('钱秀兰', '1955-05-05'.replace('05-05', '06-06'));
    await db.transaction((tx) => mergePersons(tx, a.pid, b.pid));
    const g = (await getPerson(db, a.pid))!.golden;
    assert.equal(g.name.value, '钱秀兰');
    assert.ok(a.keys.includes(g.name.source) || b.keys.includes(g.name.source));
    assert.ok(g.birthDate.value === '1955-05-05' || g.birthDate.value === '1955-06-06');
  });

  it('honours ADT^A40: the prior MRN is merged into the surviving one and marked replaced', async () => {
    const s = await matchIncoming(db, patientInput({ name: '周建华', birthDate: '1966-01-01', gender: 'male', mrn: 'A40-SURV' }, 'inst-a40'));
    const p = await matchIncoming(db, patientInput({ name: '周见华', birthDate: '1967-11-11', gender: 'male', mrn: 'A40-PRIOR' }, 'inst-a40'));
    assert.notEqual(s.personId, p.personId);
    const r = await db.transaction((tx) => mergeByA40(tx, 'urn:inst-a40:mrn|A40-SURV', 'urn:inst-a40:mrn|A40-PRIOR'));
    assert.equal(r.priorPatientKey, p.patientKey);
    assert.equal(await personOfPatient(db, p.patientKey), s.personId);
    const { rows } = await db.query<{ status: string; replaced_by: string }>('SELECT status, replaced_by FROM empi_record WHERE patient_key = $1', [p.patientKey]);
    assert.deepEqual(rows[0], { status: 'replaced', replaced_by: s.patientKey });
    // Unknown identifiers are logged, not fatal.
    const none = await db.transaction((tx) => mergeByA40(tx, 'urn:x|nope', 'urn:x|nada'));
    assert.equal(none.mergeEventId, undefined);
  });

  it('honours Patient.link replaced-by as a merge and seealso as a review item', async () => {
    const a = await matchIncoming(db, patientInput({ name: '吴刚', birthDate: '1979-09-09', gender: 'male' }));
    const b = await matchIncoming(db, patientInput({ name: '武钢', birthDate: '1980-01-02', gender: 'male' }));
    const c = await matchIncoming(db, patientInput({ name: '胡兰', birthDate: '1982-02-02', gender: 'female' }));
    const res = await db.transaction((tx) =>
      applyPatientLinks(tx, {
        resourceType: 'Patient',
        id: b.patientKey,
        link: [
          { type: 'replaced-by', other: { reference: `Patient/${a.patientKey}` } },
          { type: 'seealso', other: { reference: `Patient/${c.patientKey}` } },
        ],
      }),
    );
    assert.deepEqual(res.map((x) => x.result), ['merged', 'queued for review']);
    assert.equal(await personOfPatient(db, b.patientKey), a.personId);
    assert.notEqual(await personOfPatient(db, c.patientKey), a.personId);
  });
});

describe(`golden record twins (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('computes the same golden records in JS (incremental) as in SQL (batch)', async () => {
    const { openTestDb } = await import('../../test/support/db.ts');
    const { miniCounty } = await import('./testing.ts');
    const { refreshGolden } = await import('./registry.ts');
    const db = await openTestDb();
    try {
      for (const x of miniCounty(120, 21, 0.4).inputs) await matchIncoming(db, x);
      const read = async () => (await db.query<{ person_id: string; golden: unknown; resident_id: string | null }>('SELECT person_id, golden, resident_id FROM empi_person ORDER BY person_id')).rows;
      const { rows } = await db.query<{ person_id: string }>('SELECT person_id FROM empi_person');
      const ids = rows.map((r) => r.person_id);
      await refreshGolden(db, ids, 'js');
      const js = await read();
      await db.exec(`UPDATE empi_person SET golden = '{}', resident_id = NULL`);
      await refreshGolden(db, ids, 'sql');
      const sql = await read();
      assert.ok(js.length > 100);
      assert.deepEqual(js, sql);
    } finally {
      await db.close();
    }
  });
});
