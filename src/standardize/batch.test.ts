import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { DiagnosticReport, Patient, Resource } from '@medplum/fhirtypes';
import type { Db, Queryable } from '../store/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import { applyWrites } from '../fhir/write.ts';
import { drainQueue, landUnits, standardizeBatch, type LandedUnit, type WorkerOptions } from '../ingest/index.ts';
import { confirmMapping, listUnmapped } from '../terminology/index.ts';
import { createStandardizer, openStandardization, type StandardizeServices } from './index.ts';
import { csvInput } from './test-support.ts';

// The worker's batched standardization (createStandardizer between beginBatch and endBatch) on a real database.
let db: Db;
let services: StandardizeServices;

before(async () => {
  db = await openTestDb();
  services = await openStandardization(db);
});
after(() => db.close());

const patientRow = (inst: string, mrn: string, extra: Record<string, string> = {}) => ({
  org_code: inst, record_id: `P-${mrn}`, patient_local_id: mrn, name: '张伟', sex_code: '1', birth_date: '1956-03-08',
  id_number: '330523195603080013', phone: '13905721234', division_code: '330523001002', updated_at: '2024-01-02 08:00:00', ...extra,
});
const dxRow = (inst: string, id: string, code: string) => ({
  org_code: inst, record_id: id, patient_local_id: 'D1', visit_id: 'V1', diagnosis_time: '2024-03-05 10:00', local_code: code, local_name: '院内自编诊断',
});
/** The FHIR store's set-based write, as the platform's worker uses it; records what each batch wrote. */
const storeWriter = (log: Resource[][]) => async (tx: Queryable, units: Array<{ unit: LandedUnit; resources: Resource[] }>) => {
  const rs = units.flatMap((u) => u.resources);
  log.push(rs);
  await applyWrites(tx, rs.map((resource) => ({ method: 'update' as const, resourceType: resource.resourceType, id: resource.id!, resource })), new Date(), units[0].unit.institutionId);
};
const statuses = async (inst: string) =>
  (await db.query<{ status: string }>(`SELECT status FROM landed_unit WHERE institution_id = $1 ORDER BY id`, [inst])).rows.map((r) => r.status);

test('counts every sighting of an unmapped code in a batch with one write, and maps the code for the next unit once it is confirmed', async () => {
  const inst = 'H-BATCH-1';
  const std = createStandardizer(services);
  const opts = { standardize: std, writeBatch: storeWriter([]) };
  await landUnits(db, [csvInput(inst, 'patient', patientRow(inst, 'D1')), ...['X1', 'X2', 'X3'].map((id) => csvInput(inst, 'diagnosis', dxRow(inst, id, 'ZZ-77')))]);
  await drainQueue(db, opts);
  assert.deepEqual(await statuses(inst), ['standardized', 'quarantined', 'quarantined', 'quarantined']);
  const [u] = await listUnmapped(db, services.terminology, { institution: inst });
  assert.deepEqual([u.localCode, u.count], ['ZZ-77', 3]);
  // Cached as unmapped now: a fourth sighting costs no read of terminology_map, and is written with the batch's end.
  const seen: string[] = [];
  await db.transaction(async (tx) => {
    const spy: Queryable = { query: (sql, params) => (seen.push(sql), tx.query(sql, params)), exec: (sql) => tx.exec(sql), crypto: tx.crypto };
    services.mapper.defer(spy);
    const r = await services.mapper.map(spy, { institutionId: inst, kind: 'diagnosis', code: 'ZZ-77', display: '院内自编诊断' });
    assert.equal(r.status, 'unmapped');
    assert.equal(seen.length, 0);
    assert.deepEqual(await services.mapper.flush(spy), []);
    assert.equal(seen.length, 1);
  });
  assert.equal((await listUnmapped(db, services.terminology, { institution: inst }))[0].count, 4);
  const res = await confirmMapping(db, services.mapper, { institutionId: inst, localSystem: u.localSystem, localCode: 'ZZ-77', targetCode: 'J42', decidedBy: 'test' });
  assert.equal(res.requeued, 3);
  await drainQueue(db, opts);
  assert.deepEqual(await statuses(inst), ['standardized', 'standardized', 'standardized', 'standardized']);
  const m = await db.transaction((tx) => services.mapper.map(tx, { institutionId: inst, kind: 'diagnosis', code: 'ZZ-77' }));
  assert.equal(m.status === 'mapped' && m.coding.code, 'J42');
});

test('a code confirmed by another server after this one cached it as unmapped: the batch is redone and its units map', async () => {
  const inst = 'H-BATCH-2';
  const std = createStandardizer(services);
  const opts = { standardize: std, writeBatch: storeWriter([]) };
  await landUnits(db, [csvInput(inst, 'patient', patientRow(inst, 'D1')), csvInput(inst, 'diagnosis', dxRow(inst, 'Y1', 'ZZ-88'))]);
  await drainQueue(db, opts);
  assert.deepEqual(await statuses(inst), ['standardized', 'quarantined']);
  // The other server: its own services (its own cache), confirming through its own operator API.
  const other = await openStandardization(db);
  const [u] = await listUnmapped(db, other.terminology, { institution: inst });
  assert.equal((await confirmMapping(db, other.mapper, { institutionId: inst, localSystem: u.localSystem, localCode: 'ZZ-88', targetCode: 'J42', decidedBy: 'test' })).requeued, 1);
  await landUnits(db, [csvInput(inst, 'diagnosis', dxRow(inst, 'Y2', 'ZZ-88'))]);
  await drainQueue(db, opts);
  assert.deepEqual(await statuses(inst), ['standardized', 'standardized', 'standardized']);
  assert.deepEqual(await listUnmapped(db, services.terminology, { institution: inst }), [], 'not counted as unmapped again');
});

test('a returning patient whose Patient is unchanged is neither written nor matched again; its latest change is matched once per batch', async () => {
  const inst = 'H-BATCH-3';
  const matched: Array<{ id: string; phone?: string }> = [];
  const locked: string[][] = [];
  const std = createStandardizer({
    ...services,
    matchPatient: async (_tx, p: Patient) => void matched.push({ id: p.id!, phone: p.telecom?.[0].value }),
    lockPatients: async (_tx, ps) => void locked.push(ps.map((x) => x.patient.id!)),
  });
  const written: Resource[][] = [];
  const opts = { standardize: std, writeBatch: storeWriter(written) };
  const patientsWritten = () => written.map((rs) => rs.filter((r) => r.resourceType === 'Patient').length);
  // One batch: the patient, the same again (another record of the feed), then with a new phone.
  await landUnits(db, [
    csvInput(inst, 'patient', patientRow(inst, 'R1', { record_id: 'A' })),
    csvInput(inst, 'patient', patientRow(inst, 'R1', { record_id: 'B' })),
    csvInput(inst, 'patient', patientRow(inst, 'R1', { record_id: 'C', phone: '13905720000' })),
  ]);
  await drainQueue(db, opts);
  assert.deepEqual(await statuses(inst), ['standardized', 'standardized', 'standardized']);
  assert.deepEqual(patientsWritten(), [2], 'the unchanged second one is not written');
  assert.equal(matched.length, 1);
  assert.equal(matched[0].phone, '13905720000', 'matched in its final version');
  assert.deepEqual(locked, [[matched[0].id]], 'the batch\'s patients locked before matching');
  // A later batch: the same as stored — no write, no match.
  await landUnits(db, [csvInput(inst, 'patient', patientRow(inst, 'R1', { record_id: 'D', phone: '13905720000' }))]);
  await drainQueue(db, opts);
  assert.equal((await statuses(inst)).at(-1), 'standardized');
  assert.deepEqual(patientsWritten(), [2], 'nothing written for it');
  assert.equal(matched.length, 1);
});

/** A Db whose transactions count the statements that start with one of `prefixes` (the worker's and the standardizer's). */
function counting(prefixes: Record<string, RegExp>): { db: Db; counts: Record<string, number> } {
  const counts = Object.fromEntries(Object.keys(prefixes).map((k) => [k, 0]));
  const spy = (tx: Queryable): Queryable => ({
    query: (sql, params, options) => {
      for (const [k, re] of Object.entries(prefixes)) if (re.test(sql)) counts[k]++;
      return tx.query(sql, params, options);
    },
    exec: (sql) => tx.exec(sql),
    crypto: tx.crypto,
  });
  return { db: Object.assign(Object.create(db) as Db, { transaction: <T>(fn: (tx: Queryable) => Promise<T>) => db.transaction((tx) => fn(spy(tx))) }), counts };
}

/**
 * One batch: a lab row and a diagnosis (also an unmapped code) of patient Q1 before Q1's own row, a lab row of Q2 (who
 * never comes), and a lab row of Q4 (never comes either) that a hold for Q1 left by an earlier run also waits on.
 */
async function heldAndReleased(inst: string, writeBatch: WorkerOptions['writeBatch']) {
  const std = createStandardizer(services);
  await drainQueue(db, { standardize: std, writeBatch: storeWriter([]) }); // the batch below is these five units alone
  const lab = (id: string, mrn: string) => csvInput(inst, 'lab_result', {
    org_code: inst, record_id: id, patient_local_id: mrn, visit_id: 'V1', report_id: `R-${id}`, item_code: 'HGB', item_name: '血红蛋白', value: '13.2', unit: 'g/dL', report_time: '2024-03-05 10:00:00',
  });
  const landed = await landUnits(db, [lab('L1', 'Q1'), csvInput(inst, 'diagnosis', { ...dxRow(inst, 'X1', 'ZZ-99'), patient_local_id: 'Q1' }), lab('L2', 'Q2'), lab('L4', 'Q4'), csvInput(inst, 'patient', patientRow(inst, 'Q1'))]);
  await db.query(`INSERT INTO std_held (institution_id, hold_key, unit_id) VALUES ($1, 'patient|Q1', $2)`, [inst, landed[3].id]);
  const spied = counting({ holds: /INSERT INTO std_held/, statuses: /^\s*UPDATE landed_unit/ });
  assert.equal(await standardizeBatch(spied.db, { standardize: std, writeBatch }), 5);
  const units = (await db.query<{ status: string; attempts: number; reasons: unknown }>(
    `SELECT status, attempts, reasons FROM landed_unit WHERE institution_id = $1 ORDER BY id`, [inst])).rows;
  const held = (await db.query<{ hold_key: string; unit_id: string }>(`SELECT hold_key, unit_id FROM std_held WHERE institution_id = $1 ORDER BY unit_id, hold_key`, [inst])).rows;
  return { landed, units, held: held.map((h) => [landed.findIndex((l) => l.id === Number(h.unit_id)), h.hold_key.replace(/\|.*\|/, '|…|')]), counts: spied.counts, std };
}

test('holds and statuses of a batch are written once each; a unit released by a later unit of the batch ends landed (the release wins)', async () => {
  const inst = 'H-BATCH-4';
  const { units, held, counts, std } = await heldAndReleased(inst, storeWriter([]));
  assert.deepEqual(units.map((u) => u.status), ['landed', 'landed', 'quarantined', 'landed', 'standardized']);
  for (const i of [0, 1, 3]) assert.deepEqual([units[i].attempts, units[i].reasons], [0, null], `unit ${i} released as a release does`);
  assert.deepEqual((units[2].reasons as Array<{ code: string }>).map((r) => r.code), ['unknown-patient']);
  // Q1's holds are gone; the diagnosis still waits for its code, Q2's and Q4's rows wait for them.
  assert.deepEqual(held, [[1, 'code|…|ZZ-99'], [2, 'patient|Q2'], [3, 'patient|Q4']]);
  assert.deepEqual(counts, { holds: 1, statuses: 1 }, 'one hold insert and one status update for the whole batch');
  // The released ones are done again: the lab standardizes; the diagnosis waits for its code, the Q4 row for Q4.
  await drainQueue(db, { standardize: std, writeBatch: storeWriter([]) });
  assert.deepEqual(await statuses(inst), ['standardized', 'quarantined', 'quarantined', 'quarantined', 'standardized']);
});

test('a batch redone unit by unit holds and releases exactly as the whole batch does', async () => {
  const inst = 'H-BATCH-5';
  let failed = false;
  const failingOnce = async (tx: Queryable, units: Array<{ unit: LandedUnit; resources: Resource[] }>) => {
    if (!failed) {
      failed = true;
      throw new Error('the batch write is refused once');
    }
    return storeWriter([])(tx, units);
  };
  const { units, held } = await heldAndReleased(inst, failingOnce);
  assert.ok(failed);
  assert.deepEqual(units.map((u) => u.status), ['landed', 'landed', 'quarantined', 'landed', 'standardized']);
  for (const i of [0, 1, 3]) assert.deepEqual([units[i].attempts, units[i].reasons], [0, null]);
  assert.deepEqual(held, [[1, 'code|…|ZZ-99'], [2, 'patient|Q2'], [3, 'patient|Q4']]);
});

test('a batch reads the patient register and its reports\' members ahead in one statement each; what its earlier units register or list, later ones see', async () => {
  const inst = 'H-BATCH-6';
  const std = createStandardizer(services);
  await drainQueue(db, { standardize: std, writeBatch: storeWriter([]) }); // the batch below is its units alone
  const lab = (id: string, mrn: string, report = 'R1') => csvInput(inst, 'lab_result', {
    org_code: inst, record_id: id, patient_local_id: mrn, visit_id: 'V1', report_id: report, item_code: 'HGB', item_name: '血红蛋白', value: '13.2', unit: 'g/dL', report_time: '2024-03-05 10:00:00',
  });
  // An earlier batch: patient K1 and one item of report R1.
  await landUnits(db, [csvInput(inst, 'patient', patientRow(inst, 'K1')), lab('A0', 'K1')]);
  await drainQueue(db, { standardize: std, writeBatch: storeWriter([]) });
  await landUnits(db, [
    lab('A1', 'K1'), lab('A2', 'K1'), lab('B1', 'K2', 'R2'), csvInput(inst, 'patient', patientRow(inst, 'K2')), lab('B2', 'K2', 'R2'), lab('C1', 'K3', 'R3'), lab('A3', 'K1'),
  ]);
  const spied = counting({ lookups: /FROM std_patient_ref/, members: /std_report_member/ });
  const written: Resource[][] = [];
  assert.equal(await standardizeBatch(spied.db, { standardize: std, writeBatch: storeWriter(written) }), 7);
  assert.deepEqual(spied.counts, { lookups: 1, members: 2 }, 'one read of the register, one read and one insert of report members');
  assert.deepEqual((await statuses(inst)).slice(2), ['standardized', 'standardized', 'landed', 'standardized', 'standardized', 'quarantined', 'standardized']);
  const reports = written.flat().filter((r): r is DiagnosticReport => r.resourceType === 'DiagnosticReport');
  const r1 = reports.filter((r) => r.id === reports[0].id);
  assert.deepEqual(r1.map((r) => r.result?.length), [2, 3, 4], 'R1 lists its earlier item and each new one in turn');
  assert.equal(reports.filter((r) => r.id !== reports[0].id).length, 1, 'R2 once (B2); B1 waits for K2; R3 never (K3 unknown)');
  const { rows } = await db.query<{ report_id: string; n: string }>(
    `SELECT report_id, count(*) AS n FROM std_report_member WHERE institution_id = $1 GROUP BY 1 ORDER BY 1`, [inst]);
  assert.deepEqual(rows.map((r) => [r.report_id, Number(r.n)]), [['R1', 4], ['R2', 1]], 'the batch\'s memberships written');
  // B1, released by K2's arrival, is done again and joins R2.
  await drainQueue(db, { standardize: std, writeBatch: storeWriter(written) });
  assert.equal((await statuses(inst))[4], 'standardized');
  assert.equal(written.flat().filter((r): r is DiagnosticReport => r.resourceType === 'DiagnosticReport').at(-1)?.result?.length, 2);
});

test('a batch\'s patient registrations are one statement: the register as the upserts one by one would leave it, and what waited released', async () => {
  const inst = 'H-BATCH-7';
  const std = createStandardizer(services);
  await drainQueue(db, { standardize: std, writeBatch: storeWriter([]) }); // the batch below is its units alone
  const lab = (id: string, mrn: string) => csvInput(inst, 'lab_result', {
    org_code: inst, record_id: id, patient_local_id: mrn, visit_id: 'V1', report_id: `R-${id}`, item_code: 'HGB', item_name: '血红蛋白', value: '13.2', unit: 'g/dL', report_time: '2024-03-05 10:00:00',
  });
  // An earlier batch: a row of P1 before P1 is known — held.
  await landUnits(db, [lab('E1', 'P1')]);
  await drainQueue(db, { standardize: std, writeBatch: storeWriter([]) });
  const landed = await landUnits(db, [
    csvInput(inst, 'patient', patientRow(inst, 'P1', { record_id: 'A' })), lab('E2', 'P9'), csvInput(inst, 'patient', patientRow(inst, 'P1', { record_id: 'B', birth_date: '1956-03-09', id_number: '' })),
  ]);
  // An older hold for P1 of a unit that comes AFTER P1's registration in the batch: deleted by it, not releasing it.
  await db.query(`INSERT INTO std_held (institution_id, hold_key, unit_id) VALUES ($1, 'patient|P1', $2)`, [inst, landed[1].id]);
  const spied = counting({ registrations: /INSERT INTO std_patient_ref/ });
  assert.equal(await standardizeBatch(spied.db, { standardize: std, writeBatch: storeWriter([]) }), 3);
  assert.deepEqual(spied.counts, { registrations: 1 });
  const units = (await db.query<{ status: string; attempts: number }>(`SELECT status, attempts FROM landed_unit WHERE institution_id = $1 ORDER BY id`, [inst])).rows;
  assert.deepEqual(units.map((u) => [u.status, u.attempts]), [['landed', 0], ['standardized', 1], ['quarantined', 1], ['standardized', 1]]);
  const { rows: [ref] } = await db.query<{ first_unit: string; birth_date: string }>(
    `SELECT first_unit, birth_date::text AS birth_date FROM std_patient_ref WHERE institution_id = $1 AND mrn = 'P1'`, [inst]);
  assert.deepEqual([Number(ref.first_unit), ref.birth_date], [landed[0].id, '1956-03-09']);
  const held = (await db.query<{ hold_key: string; unit_id: string }>(`SELECT hold_key, unit_id FROM std_held WHERE institution_id = $1`, [inst])).rows;
  assert.deepEqual(held.map((h) => [h.hold_key, Number(h.unit_id)]), [['patient|P9', landed[1].id]]);
  await drainQueue(db, { standardize: std, writeBatch: storeWriter([]) });
  assert.deepEqual(await statuses(inst), ['standardized', 'standardized', 'quarantined', 'standardized']);
});
