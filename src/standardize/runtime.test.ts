import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Db, Queryable } from '../store/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import { StandardizationRuntime } from './runtime.ts';
import { asLanded, csvInput } from './test-support.ts';

// The platform's standardizer (one runtime shared by the worker's loops) on a real database.
let db: Db;

before(async () => {
  db = await openTestDb();
});
after(() => db.close());

const patientRow = (inst: string, mrn: string) => ({
  org_code: inst, record_id: `P-${mrn}`, patient_local_id: mrn, name: '张伟', sex_code: '1', birth_date: '1956-03-08',
  id_number: '330523195603080013', phone: '13905721234', division_code: '330523001002', updated_at: '2024-01-02 08:00:00',
});
const dxRow = (inst: string, mrn: string) => ({
  org_code: inst, record_id: `DX-${mrn}`, patient_local_id: mrn, visit_id: 'V1', diagnosis_time: '2024-03-05 10:00', local_code: 'J42', local_name: '慢性支气管炎',
});

test('two worker loops whose first batches begin together on a fresh runtime: each batch keeps what its first unit left to its end', async () => {
  // Two loops' first transactions, as the worker hands them over (a Queryable of its own per batch: `own(tx)`), here
  // over one real transaction so that the interleaving is the same on both engines: both batches begin, then both
  // first units wait for the services' load, which the first starts. Batch A's unit registers a patient (written at
  // A's end), batch B's waits for an unknown one (its hold written at B's end).
  const inst = 'H-RUNTIME-1';
  const rt = new StandardizationRuntime();
  const std = rt.standardize;
  const a = asLanded(csvInput(inst, 'patient', patientRow(inst, 'R1')));
  const b = asLanded(csvInput(inst, 'diagnosis', dxRow(inst, 'R9')));
  const results = await db.transaction(async (tx) => {
    const qa: Queryable = { query: (sql, params, options) => tx.query(sql, params, options), exec: (sql) => tx.exec(sql), crypto: tx.crypto };
    const qb: Queryable = { query: (sql, params, options) => tx.query(sql, params, options), exec: (sql) => tx.exec(sql), crypto: tx.crypto };
    std.beginBatch(qa, [a]);
    std.beginBatch(qb, [b]);
    const rs = await Promise.all([std(a, qa), std(b, qb)]);
    await std.endBatch(qa);
    await std.endBatch(qb);
    return rs;
  });
  assert.ok('resources' in results[0]);
  assert.ok('quarantine' in results[1]);
  const { rows: refs } = await db.query<{ mrn: string; first_unit: string }>(`SELECT mrn, first_unit FROM std_patient_ref WHERE institution_id = $1`, [inst]);
  assert.deepEqual(refs.map((r) => [r.mrn, Number(r.first_unit)]), [['R1', a.id]]);
  const { rows: held } = await db.query<{ hold_key: string; unit_id: string }>(`SELECT hold_key, unit_id FROM std_held WHERE institution_id = $1`, [inst]);
  assert.deepEqual(held.map((h) => [h.hold_key, Number(h.unit_id)]), [['patient|R9', b.id]]);
});
