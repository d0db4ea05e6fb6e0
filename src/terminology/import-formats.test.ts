import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import type { Db } from '../store/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import { importFormat, type ImportFormat } from './import-formats.ts';
import { CodeMapper, STANDARD_URIS, SYSTEMS, Terminology } from './index.ts';

// Issue 17: full code systems from their publishers' distribution files, in those files' exact formats (small
// fixtures in ./testdata): streamed, idempotent, versioned.
const file = (name: string) => createReadStream(new URL(`./testdata/${name}`, import.meta.url), { highWaterMark: 64 }); // tiny chunks: rows and tags split across them
let db: Db;
before(async () => {
  db = await openTestDb();
  await Terminology.open(db); // the shipped subset first, as at any start
});
after(() => db.close());

const concept = async (system: string, code: string) =>
  (await db.query<{ display: string; display_en: string | null; parent: string | null; properties: Record<string, unknown>; origin: string }>(
    `SELECT display, display_en, parent, properties, origin FROM terminology_concept WHERE system = $1 AND code = $2`, [system, code],
  )).rows[0];
const release = async (name: string) => (await db.query<{ version: string }>(`SELECT version FROM terminology_release WHERE name = $1`, [name])).rows[0]?.version;
const count = async (sql: string, params: unknown[] = []) => (await db.query<{ n: number }>(sql, params)).rows[0].n;

test('imports LOINC\'s Loinc.csv: every valid code with its long common name, the shipped concept keeping its Chinese name and canonical unit, a wrong check digit skipped', async () => {
  const r = await importFormat(db, 'loinc', file('Loinc.csv'));
  assert.deepEqual([r.concepts, r.skipped, r.version], [4, 1, '2.74']);
  const ldl = await concept(SYSTEMS.loinc, '18262-6');
  assert.deepEqual([ldl.display, ldl.properties.category, ldl.properties.scale, ldl.properties.exampleUnit, ldl.origin], [
    'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay', 'laboratory', 'Qn', 'mg/dL', 'import',
  ]);
  const chol = await concept(SYSTEMS.loinc, '2093-3');
  assert.deepEqual([chol.display, chol.display_en, chol.properties.unit, chol.properties.twin], ['总胆固醇（质量浓度）', 'Cholesterol [Mass/volume] in Serum or Plasma', 'mg/dL', '14647-2']);
  assert.equal((await concept(SYSTEMS.loinc, '25428-4')).properties.category, 'laboratory-ord');
  assert.equal(await concept(SYSTEMS.loinc, '8302-3'), undefined);
  assert.equal(await release('loinc'), '2.74');
});

test('imports the CMS ICD-10-CM tabular XML with parents from the nesting, and the national clinical edition spreadsheet (CSV) into ICD-10-CN', async () => {
  const cm = await importFormat(db, 'icd10', file('icd10cm_tabular_2024.xml'));
  assert.deepEqual([cm.system, cm.version, cm.concepts], [STANDARD_URIS.icd10cm, '2024', 5]);
  assert.deepEqual([(await concept(STANDARD_URIS.icd10cm, 'E66.01')).parent, (await concept(STANDARD_URIS.icd10cm, 'E66.0')).parent, (await concept(STANDARD_URIS.icd10cm, 'E66')).parent], ['E66.0', 'E66', null]);
  assert.equal((await concept(STANDARD_URIS.icd10cm, 'E66.9')).display, 'Obesity, unspecified');
  const cn = await importFormat(db, 'icd10', file('icd10-cn-clinical-2.0.csv'), { version: '2.0' });
  assert.deepEqual([cn.system, cn.concepts, cn.skipped], [SYSTEMS.icd10, 6, 1]);
  assert.deepEqual([(await concept(SYSTEMS.icd10, 'E66.900x001')).display, (await concept(SYSTEMS.icd10, 'E66.900x001')).parent], ['单纯性肥胖', 'E66']);
  assert.equal(await release(`icd10:${SYSTEMS.icd10}`), '2.0');
});

test('imports the SNOMED CT → ICD-10 ExtendedMap (RF2): group 1\'s unconditional target per concept, inactive rows and other groups skipped', async () => {
  const r = await importFormat(db, 'snomed-icd10-map', file('der2_iisssccRefset_ExtendedMapSnapshot_INT_20230731.txt'));
  assert.deepEqual([r.crossmaps, r.version], [3, '20230731']);
  const maps = await db.query<{ source_code: string; target_code: string; equivalence: string }>(
    `SELECT source_code, target_code, equivalence FROM terminology_crossmap WHERE source_system = $1 ORDER BY source_code`, [STANDARD_URIS.snomed],
  );
  assert.deepEqual(maps.rows.map((m) => [m.source_code, m.target_code, m.equivalence]), [['162864005', 'E66.9', 'equivalent'], ['38341003', 'I10', 'equivalent'], ['44054006', 'E11.9', 'equivalent']]);
});

test('imports RxNorm\'s RXNCONSO.RRF: one concept per RXCUI named by its best term type, suppressed ones skipped, ATC maps of ingredients', async () => {
  const r = await importFormat(db, 'rxnorm', file('RXNCONSO.RRF'), { version: '20241104' });
  assert.deepEqual([r.concepts, r.crossmaps], [3, 2]);
  assert.deepEqual([(await concept(STANDARD_URIS.rxnorm, '314076')).display, (await concept(STANDARD_URIS.rxnorm, '314076')).properties.tty], ['lisinopril 10 MG Oral Tablet', 'SCD']);
  assert.equal(await concept(STANDARD_URIS.rxnorm, '1000001'), undefined);
  assert.equal(await release('rxnorm'), '20241104');
});

test('imports idempotently: the same files again change no count', async () => {
  const before = [
    await count(`SELECT count(*)::int AS n FROM terminology_concept`),
    await count(`SELECT count(*)::int AS n FROM terminology_crossmap`),
  ];
  const files: Array<[ImportFormat, string]> = [['loinc', 'Loinc.csv'], ['icd10', 'icd10cm_tabular_2024.xml'], ['snomed-icd10-map', 'der2_iisssccRefset_ExtendedMapSnapshot_INT_20230731.txt'], ['rxnorm', 'RXNCONSO.RRF']];
  for (const [format, name] of files) await importFormat(db, format, file(name));
  assert.deepEqual([await count(`SELECT count(*)::int AS n FROM terminology_concept`), await count(`SELECT count(*)::int AS n FROM terminology_crossmap`)], before);
});

test('with the imports, a SNOMED CT diagnosis gains its ICD-10-CN code, an RxNorm ingredient its ATC, and local codes get suggestions from the imported LOINC', async () => {
  const t = await Terminology.open(db);
  const m = await CodeMapper.open(db, t);
  await db.transaction(async (tx) => {
    const dx = await m.map(tx, { institutionId: 'i', kind: 'diagnosis', system: STANDARD_URIS.snomed, code: '162864005', display: 'Body mass index 30+ - obesity (finding)' });
    assert.deepEqual(dx.status === 'standard' && [dx.reporting?.system, dx.reporting?.code, dx.reporting?.display, dx.finding], [SYSTEMS.icd10, 'E66.9', '未特指的肥胖症', undefined]);
    const drug = await m.map(tx, { institutionId: 'i', kind: 'drug', system: STANDARD_URIS.rxnorm, code: '1998' });
    assert.deepEqual(drug.status === 'standard' && [drug.coding.display, drug.reporting?.code, drug.reporting?.display], ['captopril', 'C09AA01', '卡托普利']);
  });
  const s = t.suggest('lab', 'LDL-D', 'LDL cholesterol direct assay serum');
  assert.equal(s[0]?.code, '18262-6', JSON.stringify(s));
});
