import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../store/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import { shippedConcepts } from './shipped.ts';
import { checkLoinc, checkSnomed, CodeMapper, STANDARD_URIS, standardSystem, SYSTEMS, Terminology } from './index.ts';

// Issue 17: a coding in a standard system is a standard code, stored as sent; the syntax check of each system tells a
// mistyped code from one merely outside the shipped subset.

test('accepts every shipped LOINC, ICD-10-CN, ICD-9-CM-3, ATC and CVX code by its system\'s syntax (check digits included)', () => {
  const bySystem = new Map<string, string[]>();
  for (const c of shippedConcepts()) bySystem.set(c.system, [...(bySystem.get(c.system) ?? []), c.code]);
  for (const system of [SYSTEMS.loinc, SYSTEMS.icd10, SYSTEMS.icd9cm3, SYSTEMS.atc]) {
    const codes = bySystem.get(system) ?? [];
    assert.ok(codes.length > 10, system);
    assert.deepEqual(codes.filter((c) => standardSystem(system)!.check(c) !== undefined), [], system);
  }
  const cvx = shippedConcepts().flatMap((c) => (typeof c.properties.cvx === 'string' ? [c.properties.cvx] : []));
  assert.deepEqual(cvx.filter((c) => standardSystem(SYSTEMS.cvx)!.check(c) !== undefined), []);
});

test('checks the LOINC Mod 10 check digit: 8302-2 and 72514-3 pass, a wrong digit or shape fails', () => {
  assert.equal(checkLoinc('8302-2'), undefined);
  assert.equal(checkLoinc('72514-3'), undefined);
  assert.equal(checkLoinc('29463-7'), undefined);
  assert.equal(checkLoinc('8302-3'), 'LOINC check digit is 2, not 3');
  assert.match(checkLoinc('8302')!, /not a LOINC code/);
});

test('checks SNOMED CT identifiers: Verhoeff check digit and a concept\'s partition', () => {
  for (const c of ['162864005', '430193006', '266919005', '162673000', '10828004', '260385009', '44054006', '38341003']) assert.equal(checkSnomed(c), undefined, c);
  assert.match(checkSnomed('162864006')!, /Verhoeff/);
  assert.match(checkSnomed('162864015')!, /partition 01/);
  assert.match(checkSnomed('0162864005')!, /no leading zero/);
});

test('knows the international systems by their HL7 URIs and no local system', () => {
  assert.equal(standardSystem(STANDARD_URIS.snomed)?.name, 'SNOMED CT');
  assert.equal(standardSystem(STANDARD_URIS.rxnorm)!.check('314076'), undefined);
  assert.match(standardSystem(STANDARD_URIS.rxnorm)!.check('31407A')!, /RXCUI/);
  assert.equal(standardSystem(STANDARD_URIS.icd10cm)!.check('E11.65'), undefined);
  assert.equal(standardSystem('http://his.example.cn/lab'), undefined);
  assert.equal(standardSystem(`${SYSTEMS.localPrefix}inst-1/diagnosis`), undefined);
});

let db: Db;
let terms: Terminology;
let mapper: CodeMapper;
const INST = 'std-codes-inst';
before(async () => {
  db = await openTestDb();
  terms = await Terminology.open(db);
  mapper = await CodeMapper.open(db, terms);
});
after(() => db.close());

const findings = async () =>
  (await db.query<{ system: string; code: string; finding: string; seen: number }>(
    `SELECT system, code, finding, seen_count::int AS seen FROM terminology_code_finding WHERE institution_id = $1 ORDER BY system, code`, [INST],
  )).rows;

test('keeps a valid LOINC code outside the tables as sent, with no unmapped sighting, and counts it as not-in-tables', async () => {
  await db.transaction(async (tx) => {
    const r = await mapper.map(tx, { institutionId: INST, kind: 'lab', system: SYSTEMS.loinc, code: '72514-3', display: 'Pain severity' });
    assert.deepEqual(r, { status: 'standard', coding: { system: SYSTEMS.loinc, code: '72514-3', display: 'Pain severity' }, targetSystem: SYSTEMS.loinc, finding: 'not-in-tables' });
    await mapper.map(tx, { institutionId: INST, kind: 'lab', system: SYSTEMS.loinc, code: '72514-3', display: 'Pain severity' });
    await mapper.flushFindings(tx, 7);
  });
  assert.deepEqual(await findings(), [{ system: SYSTEMS.loinc, code: '72514-3', finding: 'not-in-tables', seen: 2 }]);
  assert.equal((await db.query(`SELECT 1 FROM terminology_unmapped WHERE institution_id = $1`, [INST])).rows.length, 0);
});

test('treats a LOINC code failing its check digit as unmapped (it needs a map like a local code), saying why', async () => {
  const r = await db.transaction((tx) => mapper.map(tx, { institutionId: INST, kind: 'lab', system: SYSTEMS.loinc, code: '8302-3' }));
  assert.equal(r.status, 'unmapped');
  assert.equal(r.status === 'unmapped' && r.invalid, 'LOINC check digit is 2, not 3');
});

test('adds the reporting code when a map is known: CVX → national vaccine, ICD-10-CM → ICD-10-CN (wider), SNOMED CT → ICD-10 → ICD-10-CN', async () => {
  await db.query(
    `INSERT INTO terminology_crossmap (source_system, source_code, target_system, target_code, equivalence, release) VALUES ($1, '44054006', $2, 'E11.9', 'equivalent', 'test')`,
    [STANDARD_URIS.snomed, STANDARD_URIS.icd10who],
  );
  const t = await Terminology.open(db);
  const m = await CodeMapper.open(db, t);
  await db.transaction(async (tx) => {
    const cvx = await m.map(tx, { institutionId: INST, kind: 'vaccine', system: SYSTEMS.cvx, code: '19', display: 'BCG' });
    assert.deepEqual(cvx.status === 'standard' && [cvx.reporting?.system, cvx.reporting?.code, cvx.finding], [SYSTEMS.vaccine, 'BCG', undefined]);
    const cm = await m.map(tx, { institutionId: INST, kind: 'diagnosis', system: STANDARD_URIS.icd10cm, code: 'E11.65' });
    assert.deepEqual(cm.status === 'standard' && [cm.reporting?.code, cm.reporting?.equivalence], ['E11.6', 'wider']);
    const sct = await m.map(tx, { institutionId: INST, kind: 'diagnosis', system: STANDARD_URIS.snomed, code: '44054006', display: 'Diabetes mellitus type 2 (disorder)' });
    assert.deepEqual(sct.status === 'standard' && [sct.coding.display, sct.reporting?.code, sct.reporting?.display, sct.finding], ['Diabetes mellitus type 2 (disorder)', 'E11.9', t.display(SYSTEMS.icd10, 'E11.9'), undefined]);
    const none = await m.map(tx, { institutionId: INST, kind: 'diagnosis', system: STANDARD_URIS.snomed, code: '162864005' });
    assert.deepEqual(none.status === 'standard' && [none.reporting, none.finding], [undefined, 'no-reporting-map']);
    await m.flushFindings(tx);
  });
  assert.ok((await findings()).some((f) => f.code === '162864005' && f.finding === 'no-reporting-map'));
});
