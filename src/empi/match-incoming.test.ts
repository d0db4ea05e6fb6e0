import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../test/support/db.ts';
import { residentIdCheckChar } from '../standards/index.ts';
import type { Db } from '../store/index.ts';
import { matchIncoming } from './match-incoming.ts';
import { patientKeysOfPerson, personOfPatient, refreshGolden } from './registry.ts';
import { miniCounty, patientInput, type PersonSpec } from './testing.ts';

/** A valid GB 11643 number. */
function rid(region: string, birth: string, seq: string): string {
  const first17 = region + birth.replace(/-/g, '') + seq;
  return first17 + residentIdCheckChar(first17);
}

const BASE: PersonSpec = {
  name: '王建国',
  rid: rid('330523', '1962-08-14', '031'),
  birthDate: '1962-08-14',
  gender: 'male',
  phone: '13905721234',
  village: '330523101203',
};

describe(`incremental matching (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let db: Db;
  before(async () => {
    db = await openTestDb();
  });
  after(() => db.close());

  async function registerBase(spec: PersonSpec = BASE) {
    const r = await matchIncoming(db, patientInput(spec));
    assert.equal(r.outcome, 'new');
    return r;
  }

  const variants: Array<[string, PersonSpec]> = [
    ['the same person sent again by another institution', { ...BASE }],
    ['a homophone name (同音字) without resident ID', { ...BASE, name: '王健国', rid: undefined }],
    ['traditional characters', { ...BASE, name: '王建國' }],
    ['a rare character typed as ?', { ...BASE, name: '王?国', rid: undefined }],
    ['a one-digit typo in the resident ID', { ...BASE, rid: BASE.rid!.slice(0, 10) + '9' + BASE.rid!.slice(11) }],
    ['two transposed digits in the resident ID', { ...BASE, rid: BASE.rid!.slice(0, 14) + BASE.rid![15] + BASE.rid![14] + BASE.rid!.slice(16) }],
    ['the old 15-digit resident ID', { ...BASE, rid: BASE.rid!.slice(0, 6) + BASE.rid!.slice(8, 17) }],
    ['full-width digits in the resident ID', { ...BASE, rid: BASE.rid!.replace(/\d/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0)) }],
    ['a day-month swap in the birth date and no resident ID', { ...BASE, birthDate: '1962-08-14'.replace(/(\d+)-(\d+)-(\d+)/, '$1-$3-$2').replace('-14-08', '-12-08'), rid: undefined }],
    ['missing sex and a stale phone', { ...BASE, gender: undefined, phone: '13800001111' }],
    ['a pinyin spelling at a foreign-language clinic', { ...BASE, name: 'WANG Jianguo', rid: undefined }],
  ];

  for (const [what, spec] of variants) {
    it(`links ${what}`, async () => {
      const base = await registerBase({ ...BASE, rid: rid('330523', '1962-08-14', String(100 + Math.floor(Math.random() * 800))), phone: `139${Math.floor(1e7 + Math.random() * 8e7)}` });
      const stored = (await db.query<{ resident_id: string; phone: string }>('SELECT resident_id, phone FROM empi_record WHERE patient_key = $1', [base.patientKey])).rows[0];
      // Stored encrypted (issue 10): the base's clear ID and phone through the keys.
      const baseSpec = { resident_id: db.crypto.decrypt(stored.resident_id), phone: db.crypto.decrypt(stored.phone) };
      const v = { ...spec };
      if (v.rid) v.rid = spec.rid === BASE.rid ? baseSpec.resident_id : transform(BASE.rid!, spec.rid!, baseSpec.resident_id);
      if (spec.phone === BASE.phone) v.phone = baseSpec.phone;
      const r = await matchIncoming(db, patientInput(v));
      assert.equal(r.outcome, 'linked', `${what}: ${r.outcome} weight ${r.weight} ${r.reason ?? ''} ${JSON.stringify(r.evidence)}`);
      assert.equal(r.personId, base.personId);
      await db.query(`UPDATE empi_record SET status = 'replaced' WHERE person_id = $1`, [base.personId]); // keep later cases independent
    });
  }

  it('does not link two different 王伟 born the same year in the same township', async () => {
    const a = await matchIncoming(db, patientInput({ name: '王伟', birthDate: '1980-03-05', gender: 'male', village: '330523102001', phone: '13511112222' }));
    const b = await matchIncoming(db, patientInput({ name: '王伟', birthDate: '1980-10-21', gender: 'male', village: '330523102007', phone: '13633334444' }));
    assert.notEqual(b.outcome, 'linked');
    assert.notEqual(a.personId, b.personId);
  });

  it('does not link two different 王伟 with different valid resident IDs even with the same birth date and village', async () => {
    const a = await matchIncoming(db, patientInput({ name: '王伟', rid: rid('330523', '1985-06-01', '011'), birthDate: '1985-06-01', gender: 'male', village: '330523102003' }));
    const b = await matchIncoming(db, patientInput({ name: '王伟', rid: rid('330523', '1985-06-01', '057'), birthDate: '1985-06-01', gender: 'male', village: '330523102003' }));
    assert.notEqual(b.outcome, 'linked');
    assert.notEqual(a.personId, b.personId);
  });

  it('does not link a newborn registered as 张丽之子 under the mother’s ID to the mother', async () => {
    const motherId = rid('330523', '1995-01-01', '122');
    const mother = await matchIncoming(db, patientInput({ name: '张丽', rid: motherId, birthDate: '1995-01-01', gender: 'female', phone: '13900001111', village: '330523101209' }));
    const baby = await matchIncoming(db, patientInput({ name: '张丽之子', rid: motherId, birthDate: '2024-01-05', gender: 'male', phone: '13900001111', village: '330523101209' }));
    assert.notEqual(baby.outcome, 'linked');
    assert.notEqual(baby.personId, mother.personId);
    // The same newborn at the vaccination clinic is the same child, though.
    const again = await matchIncoming(db, patientInput({ name: '张麗之子', rid: motherId, birthDate: '2024-01-05', gender: 'male', phone: '13900001111', village: '330523101209' }));
    assert.equal(again.personId, baby.personId, JSON.stringify(again));
  });

  it('does not link newborn twins 陈芳之子 and 陈芳之女 to each other or to their mother, and keeps siblings born apart separate', async () => {
    const motherId = rid('330523', '1993-07-09', '144');
    const family = { rid: motherId, phone: '13906661234', village: '330523103205' };
    const mother = await matchIncoming(db, patientInput({ name: '陈芳', birthDate: '1993-07-09', gender: 'female', ...family }));
    const son = await matchIncoming(db, patientInput({ name: '陈芳之子', birthDate: '2025-02-03', gender: 'male', ...family }));
    const daughter = await matchIncoming(db, patientInput({ name: '陈芳之女', birthDate: '2025-02-03', gender: 'female', ...family }));
    assert.notEqual(son.personId, mother.personId);
    assert.notEqual(daughter.personId, mother.personId);
    assert.notEqual(daughter.outcome, 'linked', JSON.stringify(daughter));
    assert.notEqual(daughter.personId, son.personId);
    // A brother born two years later under the same mother is another child, not the first one again.
    const brother = await matchIncoming(db, patientInput({ name: '陈芳之子', birthDate: '2027-05-20', gender: 'male', ...family }));
    assert.notEqual(brother.outcome, 'linked', JSON.stringify(brother));
    assert.ok(![mother.personId, son.personId, daughter.personId].includes(brother.personId));
    // Nothing links to the mother: her person still has her record alone.
    assert.equal((await patientKeysOfPerson(db, mother.personId)).length, 1);
  });

  it('does not link two 无名氏 of different sex or date, nor a 无名氏 to a named patient with the same details', async () => {
    const named = await matchIncoming(db, patientInput({ name: '赵强', gender: 'male', birthDate: '1966-04-04', village: '330523101002', phone: '13511223344' }));
    const u1 = await matchIncoming(db, patientInput({ name: '无名氏', gender: 'male', birthDate: '1966-04-04', village: '330523101002', phone: '13511223344' }));
    assert.notEqual(u1.outcome, 'linked');
    assert.notEqual(u1.personId, named.personId);
    const u2 = await matchIncoming(db, patientInput({ name: '无名氏', gender: 'female' }));
    assert.notEqual(u2.outcome, 'linked');
  });

  it('never links an unknown emergency patient (无名氏) automatically', async () => {
    await matchIncoming(db, patientInput({ name: '无名氏', gender: 'male', birthDate: '1970-01-01', village: '330523101001' }));
    const b = await matchIncoming(db, patientInput({ name: '无名氏', gender: 'male', birthDate: '1970-01-01', village: '330523101001' }));
    assert.notEqual(b.outcome, 'linked');
  });

  it('matches a foreign resident by Latin name in either order and passport', async () => {
    const a = await matchIncoming(db, patientInput({ name: 'SMITH John', passport: 'E12345678', birthDate: '1975-11-02', gender: 'male', phone: '13712345678' }));
    const b = await matchIncoming(db, patientInput({ name: 'John Smith', passport: 'e1234 5678', birthDate: '1975-11-02', gender: 'male' }));
    assert.equal(b.outcome, 'linked', JSON.stringify(b));
    assert.equal(b.personId, a.personId);
    const c = await matchIncoming(db, patientInput({ name: 'Smith, JOHN', birthDate: '1975-11-02', gender: 'male', phone: '+86 137 1234 5678' }));
    assert.equal(c.personId, a.personId, JSON.stringify(c));
    const d = await matchIncoming(db, patientInput({ name: 'Jon Smith', passport: 'E12345678', birthDate: '1975-11-02' }));
    assert.equal(d.personId, a.personId, JSON.stringify(d));
    // Another foreigner of the same name and birth year, with another passport, stays apart.
    const e = await matchIncoming(db, patientInput({ name: 'John Smith', passport: 'G99887766', birthDate: '1975-03-30', gender: 'male' }));
    assert.notEqual(e.personId, a.personId);
  });

  it('gives one person to two Patients of the same new person matched at the same moment on two connections', async () => {
    // Ten new persons, each arriving at two institutions at once: without the advisory locks on the blocking keys both
    // matchers read "no candidate" before either commits and two persons are created (a silent split).
    const persons: PersonSpec[] = Array.from({ length: 10 }, (_, i) => ({
      name: `欧阳${'明华建国晓春'[i % 6]}${'一二三四五六七八九十'[i]}`,
      rid: rid('330523', `1971-03-${String(10 + i).padStart(2, '0')}`, String(300 + i * 2 + 1)),
      birthDate: `1971-03-${String(10 + i).padStart(2, '0')}`,
      gender: 'male',
      phone: `1377000${String(1000 + i)}`,
      village: '330523105210',
    }));
    const results = await Promise.all(persons.flatMap((p) => [matchIncoming(db, patientInput(p)), matchIncoming(db, patientInput({ ...p, rid: undefined }))]));
    for (let i = 0; i < persons.length; i++) {
      const [a, b] = [results[2 * i], results[2 * i + 1]];
      assert.equal(a.personId, b.personId, `${persons[i].name}: ${a.outcome} ${a.personId} / ${b.outcome} ${b.personId}`);
      assert.deepEqual([a.outcome, b.outcome].sort(), ['linked', 'new']);
    }
  });

  it('keeps every linked person’s golden record equal to a recomputation from all its records', async () => {
    const { inputs } = miniCounty(80, 9090, 0.3);
    const persons = new Set<string>();
    for (const x of inputs) persons.add((await matchIncoming(db, x)).personId);
    const { rows: before } = await db.query<{ person_id: string; golden: unknown }>('SELECT person_id, golden FROM empi_person WHERE person_id = ANY($1::text[]) ORDER BY 1', [[...persons]]);
    await refreshGolden(db, [...persons]);
    const { rows: after } = await db.query<{ person_id: string; golden: unknown }>('SELECT person_id, golden FROM empi_person WHERE person_id = ANY($1::text[]) ORDER BY 1', [[...persons]]);
    assert.ok(inputs.length > persons.size + 40, 'most persons have several records');
    assert.deepEqual(before, after);
  });

  it('keeps the link of a re-sent Patient and resolves both ways', async () => {
    const input = patientInput({ ...BASE, name: '李秀英', rid: rid('330523', '1950-02-02', '024'), birthDate: '1950-02-02', gender: 'female' });
    const a = await matchIncoming(db, input);
    const again = await matchIncoming(db, input);
    assert.equal(again.outcome, 'updated');
    assert.equal(again.personId, a.personId);
    assert.equal(await personOfPatient(db, input.patientKey), a.personId);
    assert.deepEqual(await patientKeysOfPerson(db, a.personId), [input.patientKey]);
  });
});

/** Applies to `target` the same edit that turned `from` into `to` (position-wise for same-length ids). */
function transform(from: string, to: string, target: string): string {
  const norm = to.replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  if (norm.length === 15) return target.slice(0, 6) + target.slice(8, 17);
  if (norm !== to) return target.replace(/\d/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));
  let out = '';
  for (let i = 0; i < target.length; i++) out += from[i] === norm[i] ? target[i] : from.split('').map((c, j) => (c === norm[i] && from[j] !== norm[j] ? target[j] : null)).find((x) => x) ?? norm[i];
  return out;
}
