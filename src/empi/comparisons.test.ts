import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../test/support/db.ts';
import type { Db } from '../store/index.ts';
import { BLOCKING_RULES, blockKeys } from './blocking.ts';
import { COMPARISONS, comparisonVector, GAMMA_COLUMNS, gammaSql, RECORD_COLUMNS } from './comparisons.ts';
import { featuresOf, type RecordFeatures } from './features.ts';
import { openFeatures, rowToFeatures } from './registry.ts';
import { edit1, hamming1, jaroWinkler, transposed } from './similarity.ts';
import { stageRecords } from './stage.ts';
import { patientInput, type PersonSpec } from './testing.ts';

const specs: PersonSpec[] = [
  { name: '王伟', rid: '110105198003050019', birthDate: '1980-03-05', gender: 'male', phone: '13812345678', village: '330523101203' },
  { name: '王薇', rid: '110105198003050019', birthDate: '1980-05-03', gender: 'female', phone: '13812345678', village: '330523101204' },
  { name: '王为', rid: '110105198003050091', birthDate: '1980-03-06', gender: 'male', village: '330523102203' },
  { name: '王?', rid: '110105198003500019', birthDate: '1981-03-05', phone: '+86 138 1234 5678' },
  { name: '王伟明', birthDate: '1980-03-05', gender: 'male', address: '安吉县递铺镇古城村' },
  { name: '张丽之子', rid: '330523199501011228', birthDate: '2024-01-05', gender: 'male', phone: '13900001111', village: '330523101203' },
  { name: '张丽', rid: '330523199501011228', birthDate: '1995-01-01', gender: 'female', phone: '13900001111', village: '330523101203' },
  { name: '無名氏', gender: 'male' },
  { name: 'SMITH John', passport: 'E12345678', birthDate: '1975-11-02', gender: 'male' },
  { name: 'John Smith', passport: 'E12345687', birthDate: '1975-02-11', gender: 'male' },
  { name: 'Wang Wei', birthDate: '1980-03-05' },
  { name: '欧阳霁', birthDate: '1990-12-31', gender: 'female', phone: '05725123456' },
];

const inputs = specs.map((s) => patientInput(s));

describe('string similarity', () => {
  it('finds one-digit differences and adjacent transpositions only', () => {
    assert.equal(hamming1('123', '124'), true);
    assert.equal(hamming1('123', '123'), false);
    assert.equal(hamming1('123', '214'), false);
    assert.equal(transposed('1234', '1324'), true);
    assert.equal(transposed('1234', '4231'), false);
    assert.equal(transposed('1134', '1134'), false);
  });
  it('counts one character edit and lets ? stand for any character', () => {
    assert.equal(edit1('王伟', '王玮'), true);
    assert.equal(edit1('王伟', '王伟明'), true);
    assert.equal(edit1('王伟', '李玮'), false);
    assert.equal(edit1('王?明', '王晓明'), true);
    assert.equal(edit1('王?明', '王晓亮'), true);
    assert.equal(edit1('王?明', '李晓亮'), false);
  });
  it('computes Jaro-Winkler like the published examples (MARTHA/MARHTA 0.961, DIXON/DICKSONX 0.813)', () => {
    assert.equal(Math.round(jaroWinkler('MARTHA', 'MARHTA') * 1000) / 1000, 0.961);
    assert.equal(Math.round(jaroWinkler('DIXON', 'DICKSONX') * 1000) / 1000, 0.813);
  });
});

describe(`comparisons and blocking rendered to SQL agree with JS (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let db: Db;
  let recs: RecordFeatures[];
  before(async () => {
    db = await openTestDb();
    await stageRecords(db, inputs);
    recs = (await db.query(`SELECT ${RECORD_COLUMNS} FROM empi_record ORDER BY patient_key`)).rows.map(rowToFeatures);
  });
  after(() => db.close());

  it('stores what featuresOf computed, round-tripping through COPY', () => {
    assert.equal(recs.length, specs.length);
    const byKey = new Map(recs.map((r) => [r.patientKey, r]));
    // Protected values are SM4 ciphertexts with a random IV: compared decrypted (the keyed forms compare as they are;
    // the region is kept in memory only).
    for (const input of inputs) {
      const { region: _, ...computed } = featuresOf(input, db.crypto);
      assert.deepEqual(openFeatures(db.crypto, byKey.get(input.patientKey)!), openFeatures(db.crypto, computed));
    }
    assert.ok([...byKey.values()].some((r) => r.nameKind === 'newborn' && r.residentId === null && r.motherName === '张丽'));
    assert.ok([...byKey.values()].some((r) => r.nameKind === 'unknown' && r.name === null));
  });

  it('gives every pair the same comparison vector in SQL as in JS', async () => {
    const { rows } = await db.query<Record<string, unknown>>(
      `SELECT l.patient_key AS lk, r.patient_key AS rk, ${COMPARISONS.map((c, i) => `${gammaSql(c)} AS ${GAMMA_COLUMNS[i]}`).join(', ')}
       FROM empi_record l CROSS JOIN empi_record r`,
    );
    const byKey = new Map(recs.map((r) => [r.patientKey, r]));
    assert.equal(rows.length, recs.length ** 2);
    let nonTrivial = 0;
    for (const row of rows) {
      const sql = GAMMA_COLUMNS.map((c) => Number(row[c]));
      const js = comparisonVector(byKey.get(row.lk as string)!, byKey.get(row.rk as string)!);
      assert.deepEqual(sql, js, `${row.lk} vs ${row.rk}`);
      if (js.some((g, i) => g > 0 && g < COMPARISONS[i].levels.length - 1)) nonTrivial++;
    }
    assert.ok(nonTrivial > 10, 'the fixtures exercise intermediate levels');
  });

  it('computes the same Jaro-Winkler and edit predicates in SQL as in JS', async () => {
    const words = ['wangwei', 'wangwi', 'wnagwei', 'zhangli', 'zhanglizhizi', 'MARTHA', 'MARHTA', 'DIXON', 'DICKSONX', 'a', ''];
    for (const a of words) {
      for (const b of words) {
        const { rows } = await db.query<{ jw: number; e: boolean; h: boolean; t: boolean }>(
          'SELECT empi_jaro_winkler($1, $2) AS jw, empi_edit1($1, $2) AS e, empi_hamming1($1, $2) AS h, empi_transposed($1, $2) AS t',
          [a, b],
        );
        assert.ok(Math.abs(rows[0].jw - jaroWinkler(a, b)) < 1e-9, `jw ${a} ${b}`);
        assert.equal(rows[0].e, edit1(a, b), `edit1 ${a} ${b}`);
        assert.equal(rows[0].h, hamming1(a, b), `hamming1 ${a} ${b}`);
        assert.equal(rows[0].t, transposed(a, b), `transposed ${a} ${b}`);
      }
    }
  });

  it('derives the same blocking keys in SQL as in JS', async () => {
    for (const rule of BLOCKING_RULES) {
      const { rows } = await db.query<{ patient_key: string; key: string | null }>(`SELECT patient_key, ${rule.sql} AS key FROM empi_record`);
      for (const row of rows) assert.equal(row.key, rule.js(recs.find((r) => r.patientKey === row.patient_key)!), `${rule.prefix} ${row.patient_key}`);
    }
    assert.ok(blockKeys(featuresOf(patientInput(specs[0]), db.crypto)).length >= 6);
  });

  it('agrees with JS on edits at every position, so the cheap SQL guards before the similarity calls hide no level', async () => {
    // One-digit changes and transpositions of an ID at segment edges (positions 1, 6, 7, 12, 13, 18), names edited at
    // the start, middle and end, one-character names and '?' wildcards, birth dates one digit off in year, month, day.
    const rid = '330523198003050019';
    const sub = (x: string, i: number, c: string) => x.slice(0, i) + c + x.slice(i + 1);
    const swap = (x: string, i: number) => x.slice(0, i) + x[i + 1] + x[i] + x.slice(i + 2);
    const rids = [rid, ...[0, 5, 6, 11, 12, 17].map((i) => sub(rid, i, rid[i] === '9' ? '8' : '9')), ...[4, 5, 6, 11, 12, 15].map((i) => swap(rid, i)), '330523198003050027'];
    const names = ['王伟', '王玮', '李伟', '伟', '王?', '?伟', '王伟明', '明王伟', '王明伟', '张', '王?明'];
    const dates = ['1980-03-05', '1981-03-05', '1980-04-05', '1980-03-06', '1980-05-03', '1990-03-05', '1980-03-15'];
    const fixtures: PersonSpec[] = [];
    for (let i = 0; i < Math.max(rids.length, names.length, dates.length); i++) {
      fixtures.push({ name: names[i % names.length], rid: rids[i % rids.length], birthDate: dates[i % dates.length], gender: 'male', village: '330523101203' });
    }
    const db2 = await openTestDb();
    try {
      const inputs2 = fixtures.map((s, i) => patientInput(s, 'inst-g', `g${i}`));
      await stageRecords(db2, inputs2);
      const recs2 = (await db2.query(`SELECT ${RECORD_COLUMNS} FROM empi_record`)).rows.map(rowToFeatures);
      const byKey = new Map(recs2.map((r) => [r.patientKey, r]));
      const { rows } = await db2.query<Record<string, unknown>>(
        `SELECT l.patient_key AS lk, r.patient_key AS rk, ${COMPARISONS.map((c, i) => `${gammaSql(c)} AS ${GAMMA_COLUMNS[i]}`).join(', ')}
         FROM empi_record l CROSS JOIN empi_record r`,
      );
      const hits = new Map<string, number>();
      for (const row of rows) {
        const js = comparisonVector(byKey.get(row.lk as string)!, byKey.get(row.rk as string)!);
        assert.deepEqual(GAMMA_COLUMNS.map((c) => Number(row[c])), js, `${row.lk} vs ${row.rk}`);
        js.forEach((g, i) => g >= 0 && hits.set(`${COMPARISONS[i].name}:${COMPARISONS[i].levels[g].label}`, (hits.get(`${COMPARISONS[i].name}:${COMPARISONS[i].levels[g].label}`) ?? 0) + 1));
      }
      for (const level of ['rid:one digit', 'rid:transposition', 'name:one character edit', 'dob:one digit', 'dob:day-month swap']) {
        assert.ok((hits.get(level) ?? 0) > 0, `the fixtures reach ${level}`);
      }
    } finally {
      await db2.close();
    }
  });
});
