import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../store/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import { CodeMapper, confirmMapping, exportConceptMap, holdKey, holdUnit, importTerminologyCsv, listUnmapped, localSystem, SYSTEMS, Terminology } from './index.ts';

let db: Db;
let terms: Terminology;
before(async () => {
  db = await openTestDb();
  terms = await Terminology.open(db);
});
after(() => db.close());

test('ships ICD-10, LOINC, GB/T 2261.1, GB/T 2260, vaccines and drugs with Chinese names', () => {
  assert.equal(terms.display(SYSTEMS.icd10, 'I10'), '特发性（原发性）高血压');
  assert.equal(terms.lookup(SYSTEMS.icd10, 'E11.9')?.parent, 'E11');
  assert.equal(terms.display(SYSTEMS.loinc, '8480-6'), '收缩压');
  assert.equal(terms.lookup(SYSTEMS.loinc, '14682-9')?.properties.unit, 'umol/L');
  assert.equal(terms.display(SYSTEMS.sex, '2'), '女性');
  assert.equal(terms.display(SYSTEMS.division, '330523'), '安吉县');
  assert.equal(terms.lookup(SYSTEMS.division, '330523')?.parent, '330500');
  assert.equal(terms.lookup(SYSTEMS.vaccine, 'BCG')?.properties.cvx, '19');
  assert.equal(terms.display(SYSTEMS.atc, 'A10BA02'), '二甲双胍');
  assert.ok(terms.counts()[SYSTEMS.icd10] >= 500);
});

test('loads the shipped release once: a second open does not reload', async () => {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM terminology_concept`);
  const again = await Terminology.open(db);
  const { rows: rows2 } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM terminology_concept`);
  assert.equal(rows2[0].n, rows[0].n);
  assert.equal(again.display(SYSTEMS.icd10, 'J44.9'), terms.display(SYSTEMS.icd10, 'J44.9'));
});

test('suggests the right ICD-10 code first for a typo, a homophone and a traditional-character name', () => {
  assert.equal(terms.suggest('diagnosis', undefined, '2型糖尿並')[0].code, 'E11.9'); // homophone 并 → 病
  assert.equal(terms.suggest('diagnosis', undefined, '高血圧')[0].code, 'I10'); // Japanese-shape typo
  assert.equal(terms.suggest('diagnosis', undefined, '慢性阻塞性肺疾病急性加重期')[0].code, 'J44.1');
  assert.equal(terms.suggest('diagnosis', undefined, '腦梗塞')[0].code, 'I63.9'); // traditional
  assert.equal(terms.suggest('diagnosis', 'I10.X00X002', '高血压3级')[0].code, 'I10');
  assert.equal(terms.suggest('lab', undefined, '谷丙转氨酶(ALT)')[0].code, '1742-6');
});

test('maps by standard code, by exact name (remembered as a map entry) and records the unmapped with counts', async () => {
  const inst = 'H-TEST-1';
  const mapper = await CodeMapper.open(db, terms);
  const r1 = await db.transaction((tx) => mapper.map(tx, { institutionId: inst, kind: 'diagnosis', code: 'E11.9', display: '2型糖尿病' }));
  assert.deepEqual(r1.status === 'mapped' && [r1.via, r1.coding.code], ['standard-code', 'E11.9']);
  const r2 = await db.transaction((tx) => mapper.map(tx, { institutionId: inst, kind: 'lab', code: 'L0012', display: '血肌酐' }));
  assert.deepEqual(r2.status === 'mapped' && [r2.via, r2.coding.code], ['exact-name', '14682-9']);
  const again = await db.transaction((tx) => mapper.map(tx, { institutionId: inst, kind: 'lab', code: 'L0012', display: '血肌酐' }));
  assert.equal(again.status === 'mapped' && again.via, 'map');
  for (let i = 0; i < 3; i++) {
    const u = await db.transaction((tx) => mapper.map(tx, { institutionId: inst, kind: 'diagnosis', code: 'D0777', display: '高血压性心脏病伴心衰' }));
    assert.equal(u.status, 'unmapped');
  }
  const list = await listUnmapped(db, terms, { institution: inst });
  assert.equal(list.length, 1);
  assert.equal(list[0].count, 3);
  assert.equal(list[0].localSystem, localSystem(inst, 'diagnosis'));
  assert.equal(list[0].suggestions[0].code, 'I11.0');
});

test('confirming a mapping writes the entry, clears the work list, requeues the quarantined units and exports a ConceptMap', async () => {
  const inst = 'H-TEST-2';
  const mapper = await CodeMapper.open(db, terms);
  await db.transaction((tx) => mapper.map(tx, { institutionId: inst, kind: 'diagnosis', code: 'X99', display: '老慢支' }));
  const sys = localSystem(inst, 'diagnosis');
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO landed_unit (institution_id, channel, content_type, encoding, content_hash, content, status, reasons)
     VALUES ($1, 'csv', 'text/csv', 'utf-8', '\\x01', '\\x01', 'quarantined', $2::jsonb) RETURNING id`,
    [inst, JSON.stringify([{ code: 'unmapped-code', detail: 'x', local: { system: sys, code: 'X99', display: '老慢支' } }])],
  );
  await holdUnit(db, inst, holdKey({ system: sys, code: 'X99' }), rows[0].id);
  await assert.rejects(confirmMapping(db, mapper, { institutionId: inst, localSystem: sys, localCode: 'X99', targetCode: 'NOPE', decidedBy: 'op' }));
  const res = await confirmMapping(db, mapper, { institutionId: inst, localSystem: sys, localCode: 'X99', targetCode: 'J42', decidedBy: 'op' });
  assert.equal(res.requeued, 1);
  const { rows: unit } = await db.query<{ status: string }>(`SELECT status FROM landed_unit WHERE id = $1`, [rows[0].id]);
  assert.equal(unit[0].status, 'landed');
  assert.equal((await listUnmapped(db, terms, { institution: inst })).length, 0);
  const mapped = await db.transaction((tx) => mapper.map(tx, { institutionId: inst, kind: 'diagnosis', code: 'X99', display: '老慢支' }));
  assert.equal(mapped.status === 'mapped' && mapped.coding.code, 'J42');
  const cm = await exportConceptMap(db, inst);
  assert.equal(cm.group?.[0].element?.[0].target?.[0].code, 'J42');
});

test('imports an operator table in GBK, overriding the shipped name, and a new service sees it', async () => {
  const iconv = (await import('iconv-lite')).default;
  const csv = iconv.encode('编码,名称,上级编码\nI10,原发性高血压(导入),\nI10.x00x002,高血压3级,I10\n', 'gbk');
  assert.equal(await importTerminologyCsv(db, 'icd-10', csv), 2);
  const fresh = await Terminology.open(db);
  assert.equal(fresh.display(SYSTEMS.icd10, 'I10'), '原发性高血压(导入)');
  assert.equal(fresh.lookup(SYSTEMS.icd10, 'I10.x00x002')?.parent, 'I10');
});
