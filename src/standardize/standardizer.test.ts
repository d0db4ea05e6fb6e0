import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Condition, DiagnosticReport, Encounter, Observation, Patient, Resource } from '@medplum/fhirtypes';
import type { Db } from '../store/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import { drainQueue, landUnits, type StandardizeResult, type UnitInput } from '../ingest/index.ts';
import { confirmMapping, listUnmapped, SYSTEMS } from '../terminology/index.ts';
import { createStandardizer, openStandardization, REASONS, type StandardizeServices } from './index.ts';
import { asLanded, csvInput, r4Errors } from './test-support.ts';

let db: Db;
let services: StandardizeServices;
const INST = 'H330523-T1';

before(async () => {
  db = await openTestDb();
  services = await openStandardization(db);
});
after(() => db.close());

async function run(input: UnitInput): Promise<StandardizeResult> {
  const std = createStandardizer(services);
  return db.transaction((tx) => std(asLanded(input), tx));
}

function resources(r: StandardizeResult): Resource[] {
  assert.ok('resources' in r, `expected resources, got ${JSON.stringify(r)}`);
  for (const res of r.resources) assert.deepEqual(r4Errors(res), [], `${res.resourceType} is valid R4`);
  return r.resources;
}

function reasons(r: StandardizeResult): string[] {
  assert.ok('quarantine' in r, `expected quarantine, got ${JSON.stringify(r).slice(0, 300)}`);
  return r.quarantine.map((q) => q.code);
}

const patientRow = (mrn: string, extra: Record<string, string> = {}) => ({
  org_code: INST, record_id: `P-${mrn}`, patient_local_id: mrn, name: '张伟', sex_code: '1', birth_date: '1956-03-08',
  id_number: '330523195603080013', phone: '13905721234', division_code: '330523001002', updated_at: '2024-01-02 08:00:00', ...extra,
});

test('a core-table patient row becomes a valid R4 Patient with MRN, resident ID, GB/T 2261.1 sex, division and lineage', async () => {
  const [p] = resources(await run(csvInput(INST, 'patient', patientRow('M001')))) as Patient[];
  assert.equal(p.resourceType, 'Patient');
  assert.equal(p.identifier?.[0].value, 'M001');
  assert.equal(p.identifier?.[1].value, '330523195603080013');
  assert.equal(p.identifier?.[1].extension, undefined);
  assert.equal(p.gender, 'male');
  assert.equal(p.birthDate, '1956-03-08');
  assert.deepEqual([p.address?.[0].state, p.address?.[0].city, p.address?.[0].district], ['浙江省', '湖州市', '安吉县']);
  assert.deepEqual([p.name?.[0].family, p.name?.[0].given], ['张', ['伟']]);
  assert.match(p.meta?.source ?? '', /^urn:healthbrain:landing:\d+$/);
  assert.equal(p.managingOrganization?.reference, `Organization/${INST}`);
});

test('keeps a resident ID that fails its check digit as an unverified identifier with a review tag, not quarantine', async () => {
  const [p] = resources(await run(csvInput(INST, 'patient', patientRow('M002', { id_number: '330523195603080014' })))) as Patient[];
  const id = p.identifier?.find((i) => i.value === '330523195603080014');
  assert.ok(id?.extension?.length, 'marked unverified');
  assert.ok(p.meta?.tag?.some((t) => t.code === 'resident-id-unverified'));
});

test('quarantines implausible dates: birth in the future, before 1900, an impossible date, a visit before birth', async () => {
  assert.deepEqual(reasons(await run(csvInput(INST, 'patient', patientRow('M003', { birth_date: '2999-01-01' })))), ['implausible-date']);
  assert.deepEqual(reasons(await run(csvInput(INST, 'patient', patientRow('M003', { birth_date: '1899-12-31' })))), ['implausible-date']);
  assert.deepEqual(reasons(await run(csvInput(INST, 'patient', patientRow('M003', { birth_date: '1956-02-30' })))), ['invalid-date']);
  resources(await run(csvInput(INST, 'patient', patientRow('M004'))));
  const visit = { org_code: INST, record_id: 'V1', patient_local_id: 'M004', visit_id: 'V1', visit_time: '1950-05-01 09:00', visit_type: '门诊' };
  assert.deepEqual(reasons(await run(csvInput(INST, 'outpatient_visit', visit))), ['implausible-date']);
});

test('a quarantined patient leaves nothing behind: its MRN stays unknown to later records', async () => {
  reasons(await run(csvInput(INST, 'patient', patientRow('M005', { birth_date: '2999-01-01' }))));
  const { rows } = await db.query(`SELECT 1 FROM std_patient_ref WHERE institution_id = $1 AND mrn = 'M005'`, [INST]);
  assert.equal(rows.length, 0);
});

test('quarantines a row whose required column is empty', async () => {
  const row = { org_code: INST, record_id: 'D0', patient_local_id: 'M001', visit_id: 'V9', diagnosis_time: '', local_code: 'I10', local_name: '高血压' };
  assert.deepEqual(reasons(await run(csvInput(INST, 'diagnosis', row))), ['missing-required']);
});

test('converts a glucose in mg/dL to mmol/L under the molar LOINC, keeping the original value, unit and local code', async () => {
  resources(await run(csvInput(INST, 'patient', patientRow('M010'))));
  const lab = {
    org_code: INST, record_id: 'L1', patient_local_id: 'M010', visit_id: 'V10', report_id: 'R10', panel_code: 'ZH01', panel_name: '生化',
    item_code: 'GLU01', item_name: '葡萄糖', value: '108', unit: 'mg/dl', reference_range: '70-110', report_time: '2024-03-05 10:00:00',
  };
  const out = resources(await run(csvInput(INST, 'lab_result', lab)));
  const obs = out.find((r) => r.resourceType === 'Observation') as Observation;
  assert.equal(obs.code.coding?.[0].code, '14749-6');
  assert.equal(obs.code.coding?.at(-1)?.code, 'GLU01');
  assert.equal(obs.valueQuantity?.code, 'mmol/L');
  assert.ok(Math.abs((obs.valueQuantity?.value ?? 0) - 5.995) < 0.01);
  assert.equal(obs.valueQuantity?.extension?.[0].valueQuantity?.value, 108);
  assert.equal(obs.valueQuantity?.extension?.[0].valueQuantity?.unit, 'mg/dl');
  const report = out.find((r) => r.resourceType === 'DiagnosticReport') as DiagnosticReport;
  assert.deepEqual(report.result?.map((r) => r.reference), [`Observation/${obs.id}`]);
});

test('the lab report lists every item landed under its report id, whichever row arrives last', async () => {
  const lab = (n: number, code: string, name: string, value: string, unit: string) => ({
    org_code: INST, record_id: `LR${n}`, patient_local_id: 'M010', visit_id: 'V11', report_id: 'R11', item_code: code, item_name: name, value, unit, report_time: '2024-03-06 10:00:00',
  });
  resources(await run(csvInput(INST, 'lab_result', lab(1, 'CR', '肌酐', '1.1', 'mg/dL'))));
  const out = resources(await run(csvInput(INST, 'lab_result', lab(2, 'UA', '尿酸', '420', 'μmol/L'))));
  const report = out.find((r) => r.resourceType === 'DiagnosticReport') as DiagnosticReport;
  assert.equal(report.result?.length, 2);
  const cr = out.find((r) => r.resourceType === 'Observation') as Observation;
  assert.equal(cr.valueQuantity?.code, 'umol/L');
});

test('quarantines a physiologically impossible value and a non-numeric one', async () => {
  const lab = (value: string) => ({
    org_code: INST, record_id: `LX${value}`, patient_local_id: 'M010', visit_id: 'V12', report_id: 'R12', item_code: 'K', item_name: '血钾', value, unit: 'mmol/L', report_time: '2024-03-06 10:00:00',
  });
  assert.deepEqual(reasons(await run(csvInput(INST, 'lab_result', lab('45')))), ['value-out-of-range']);
  assert.deepEqual(reasons(await run(csvInput(INST, 'lab_result', lab('abc')))), ['value-not-numeric']);
});

test('holds a result for an unknown MRN as unknown-patient and standardizes it once the patient arrives', async () => {
  const inst = 'H330523-T2';
  const lab = { org_code: inst, record_id: 'L1', patient_local_id: 'X9', visit_id: 'V1', report_id: 'R1', item_code: 'HGB', item_name: '血红蛋白', value: '13.2', unit: 'g/dL', report_time: '2024-03-05 10:00:00' };
  const std = createStandardizer(services);
  const written: Resource[] = [];
  const opts = { standardize: std, writeResources: async (_tx: unknown, rs: Resource[]) => void written.push(...rs) };
  await landUnits(db, [csvInput(inst, 'lab_result', lab)]);
  await drainQueue(db, opts);
  const { rows } = await db.query<{ status: string; reasons: Array<{ code: string }> }>(`SELECT status, reasons FROM landed_unit WHERE institution_id = $1`, [inst]);
  assert.deepEqual([rows[0].status, rows[0].reasons[0].code], ['quarantined', 'unknown-patient']);
  await landUnits(db, [csvInput(inst, 'patient', { ...patientRow('X9'), org_code: inst })]);
  await drainQueue(db, opts);
  const { rows: after } = await db.query<{ status: string }>(`SELECT status FROM landed_unit WHERE institution_id = $1 ORDER BY id`, [inst]);
  assert.deepEqual(after.map((r) => r.status), ['standardized', 'standardized']);
  const obs = written.find((r) => r.resourceType === 'Observation') as Observation;
  assert.equal(obs.valueQuantity?.value, 132);
});

test('a result landed in the same worker batch as (and before) its patient is held, released by the patient, and standardized', async () => {
  const inst = 'H330523-T4';
  const std = createStandardizer(services);
  const written: Resource[] = [];
  const opts = { standardize: std, writeBatch: async (_tx: unknown, us: Array<{ resources: Resource[] }>) => void written.push(...us.flatMap((u) => u.resources)) };
  const lab = { org_code: inst, record_id: 'L1', patient_local_id: 'Y7', visit_id: 'V1', report_id: 'R1', item_code: 'HGB', item_name: '血红蛋白', value: '13.2', unit: 'g/dL', report_time: '2024-03-05 10:00:00' };
  await landUnits(db, [csvInput(inst, 'lab_result', lab), csvInput(inst, 'patient', { ...patientRow('Y7'), org_code: inst })]);
  await drainQueue(db, opts);
  const { rows } = await db.query<{ status: string }>(`SELECT status FROM landed_unit WHERE institution_id = $1 ORDER BY id`, [inst]);
  assert.deepEqual(rows.map((r) => r.status), ['standardized', 'standardized']);
  const held = await db.query(`SELECT 1 FROM std_held WHERE institution_id = $1`, [inst]);
  assert.equal(held.rows.length, 0);
  assert.ok(written.some((r) => r.resourceType === 'Observation'));
});

test('an unmapped diagnosis is quarantined with its local code, listed with suggestions, and standardizes after confirmation', async () => {
  const inst = 'H330523-T3';
  const std = createStandardizer(services);
  const written: Resource[] = [];
  const opts = { standardize: std, writeResources: async (_tx: unknown, rs: Resource[]) => void written.push(...rs) };
  await landUnits(db, [csvInput(inst, 'patient', { ...patientRow('D1'), org_code: inst })]);
  const dx = { org_code: inst, record_id: 'DX1', patient_local_id: 'D1', visit_id: 'V1', diagnosis_time: '2024-03-05 10:00', local_code: 'ZD0042', local_name: '高血压性心脏病伴心衰' };
  await landUnits(db, [csvInput(inst, 'diagnosis', dx)]);
  await drainQueue(db, opts);
  const { rows } = await db.query<{ reasons: Array<{ code: string; local: { system: string; code: string } }> }>(
    `SELECT reasons FROM landed_unit WHERE institution_id = $1 AND status = 'quarantined'`, [inst]);
  assert.equal(rows[0].reasons[0].code, 'unmapped-code');
  assert.equal(rows[0].reasons[0].local.code, 'ZD0042');
  const [u] = await listUnmapped(db, services.terminology, { institution: inst });
  assert.equal(u.suggestions[0].code, 'I11.0');
  const res = await confirmMapping(db, services.mapper, { institutionId: inst, localSystem: u.localSystem, localCode: u.localCode, targetCode: u.suggestions[0].code, decidedBy: 'test-operator' });
  assert.equal(res.requeued, 1);
  await drainQueue(db, opts);
  const cond = written.find((r) => r.resourceType === 'Condition') as Condition;
  assert.equal(cond.code?.coding?.[0].system, SYSTEMS.icd10);
  assert.equal(cond.code?.coding?.[0].code, 'I11.0');
  assert.equal(cond.code?.coding?.[1].code, 'ZD0042');
  assert.deepEqual(r4Errors(cond), []);
});

test('a chronic-disease follow-up becomes an Encounter with LOINC measurements and the 此次随访分类', async () => {
  resources(await run(csvInput(INST, 'patient', patientRow('F1'))));
  const row = {
    org_code: INST, record_id: 'FU1', patient_local_id: 'F1', disease: '2', followup_date: '2024-04-01', followup_method: '2', sbp: '150', dbp: '92',
    fasting_glucose: '7.8', weight: '70.5', heart_rate: '78', control_status: '2', next_date: '2024-07-01', doctor: '李医生',
  };
  const out = resources(await run(csvInput(INST, 'chronic_followup', row)));
  const enc = out.find((r) => r.resourceType === 'Encounter') as Encounter;
  assert.equal(enc.class.code, 'HH');
  assert.equal(enc.reasonCode?.[0].coding?.[0].code, 'E11.9');
  const codes = out.filter((r) => r.resourceType === 'Observation').map((o) => (o as Observation).code.coding?.[0].code);
  assert.deepEqual(codes.sort(), ['14771-0', '29463-7', '8462-4', '8480-6', '8867-4', 'followup-class', 'next-followup-date'].sort());
  const glu = out.find((r) => (r as Observation).code?.coding?.[0].code === '14771-0') as Observation;
  assert.equal(glu.code.coding?.[1].code, '1558-6');
});

test('every quarantine reason code is documented in docs/STANDARDIZATION.md', () => {
  const doc = readFileSync(new URL('../../docs/STANDARDIZATION.md', import.meta.url), 'utf8');
  for (const code of Object.keys(REASONS)) assert.ok(doc.includes(`\`${code}\``), `${code} is documented`);
});
