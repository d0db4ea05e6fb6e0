import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../test/support/db.ts';
import type { Db } from '../store/index.ts';
import { HEALTH_CARD_SYSTEM, PERSON_ID_SYSTEM, RESIDENT_ID_SYSTEM } from './features.ts';
import { matchIncoming } from './match-incoming.ts';
import { matchCandidates, pdqSearch, pixLookup } from './pix-pdq.ts';
import { getPerson } from './registry.ts';
import { patientInput } from './testing.ts';

describe(`PIX, PDQ and $match (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let db: Db;
  let personId: string;
  const rid = '330523197803150046';
  before(async () => {
    db = await openTestDb();
    const spec = { name: '黄晓燕', rid, birthDate: '1978-03-15', gender: 'female' as const, phone: '13588889999', village: '330523102201' };
    personId = (await matchIncoming(db, patientInput({ ...spec, mrn: 'H1' }, 'HOSP-1'))).personId;
    await matchIncoming(db, patientInput({ ...spec, mrn: 'C7', name: '黃曉燕' }, 'CLINIC-7'));
    await matchIncoming(db, patientInput({ name: '黄晓艳', birthDate: '1990-01-01', gender: 'female', mrn: 'X1' }, 'HOSP-1'));
  });
  after(() => db.close());

  it('resolves a local MRN to the other institutions’ identifiers, the resident ID and the health card', async () => {
    const r = (await pixLookup(db, 'urn:HOSP-1:mrn|H1'))!;
    assert.equal(r.personId, personId);
    const ids = r.identifiers.map((i) => `${i.system}|${i.value}`);
    assert.ok(ids.includes('urn:CLINIC-7:mrn|C7'));
    assert.ok(ids.includes(`${RESIDENT_ID_SYSTEM}|${rid}`));
    assert.ok(ids.some((i) => i.startsWith(HEALTH_CARD_SYSTEM + '|HC330523')));
    assert.ok(!ids.includes('urn:HOSP-1:mrn|H1'), 'the source identifier is not echoed');
    assert.equal(r.patientKeys.length, 2);
    const only = (await pixLookup(db, 'urn:HOSP-1:mrn|H1', ['urn:CLINIC-7:mrn']))!;
    assert.deepEqual(only.identifiers.map((i) => i.value), ['C7']);
  });

  it('resolves a resident ID (even typed with full-width digits) and a health card number to the same person', async () => {
    const wide = rid.replace(/\d/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));
    assert.equal((await pixLookup(db, `${RESIDENT_ID_SYSTEM}|${wide}`))?.personId, personId);
    const card = (await getPerson(db, personId))!.healthCard;
    assert.equal((await pixLookup(db, `${HEALTH_CARD_SYSTEM}|${card}`))?.personId, personId);
    assert.equal((await pixLookup(db, `${PERSON_ID_SYSTEM}|${personId}`))?.personId, personId);
    assert.equal(await pixLookup(db, 'urn:HOSP-1:mrn|nobody'), undefined);
  });

  it('finds persons by name, its homophones or its pinyin, narrowed by birth date, as golden Patients', async () => {
    const byName = await pdqSearch(db, { name: '黄晓燕' });
    assert.ok(byName.patients.some((p) => p.id === personId));
    const homophone = await pdqSearch(db, { name: '黄晓艳' });
    assert.equal(homophone.total, 2, 'same pinyin finds both');
    const narrowed = await pdqSearch(db, { family: 'HUANG', given: 'Xiaoyan', birthdate: '1978-03-15' });
    assert.deepEqual(narrowed.patients.map((p) => p.id), [personId]);
    const p = narrowed.patients[0];
    assert.equal(p.birthDate, '1978-03-15');
    assert.equal(p.link?.length, 2);
    assert.equal((await pdqSearch(db, { identifier: `urn:CLINIC-7:mrn|C7` })).patients[0].id, personId);
    assert.equal((await pdqSearch(db, { telecom: '+86 135 8888 9999' })).patients[0].id, personId);
    await assert.rejects(pdqSearch(db, {}), /at least one criterion/);
  });

  it('scores $match candidates, and onlyCertainMatches returns only a single certain one', async () => {
    const probe = patientInput({ name: '黄晓燕', birthDate: '1978-03-15', gender: 'female', phone: '13588889999' }).patient;
    const all = await matchCandidates(db, probe, { count: 5 });
    assert.equal(all[0].personId, personId);
    assert.equal(all[0].grade, 'certain');
    assert.ok(all[0].evidence.some((e) => e.field === 'dob' && e.level === 'exact' && e.weight > 5));
    const certain = await matchCandidates(db, probe, { onlyCertain: true });
    assert.deepEqual(certain.map((c) => c.personId), [personId]);
    const vague = patientInput({ name: '黄晓燕', birthDate: '1978-07-15', gender: 'female' }).patient;
    assert.deepEqual(await matchCandidates(db, vague, { onlyCertain: true }), []);
  });
});
