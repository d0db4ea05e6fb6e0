import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../store/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import { applyWrites } from '../fhir/write.ts';
import { createStandardizer, openStandardization, type StandardizeServices } from './index.ts';
import { asLanded, csvInput } from './test-support.ts';

// The resources standardization produces go into the FHIR store (the worker's resource writer) as update-as-create
// by their deterministic ids: every clinical row lands under the patient_key of its institution-level Patient.
let db: Db;
let services: StandardizeServices;
before(async () => {
  db = await openTestDb();
  services = await openStandardization(db);
});
after(() => db.close());

test('standardized resources are stored by the FHIR repository under their Patient\'s key, and a resend updates them', async () => {
  const inst = 'H-WRITE';
  const rows = [
    csvInput(inst, 'patient', { org_code: inst, record_id: 'P1', patient_local_id: 'W1', name: '赵六', sex_code: '1', birth_date: '1950-01-01', updated_at: '2024-01-01 08:00:00' }),
    csvInput(inst, 'lab_result', { org_code: inst, record_id: 'L1', patient_local_id: 'W1', visit_id: 'V1', report_id: 'R1', item_code: 'GLU', item_name: '葡萄糖', value: '6.1', unit: 'mmol/L', report_time: '2024-03-05 10:00:00' }),
  ];
  const std = createStandardizer(services);
  const write = async (i: number) => db.transaction(async (tx) => {
    const r = await std(asLanded(rows[i]), tx);
    assert.ok('resources' in r);
    await applyWrites(tx, r.resources.map((x) => ({ method: 'update' as const, resourceType: x.resourceType, id: x.id!, resource: x })), new Date(), inst);
    return r.resources;
  });
  const [patient] = await write(0);
  await write(1);
  await write(1);
  const { rows: stored } = await db.query<{ resource_type: string; patient_key: string; version_id: number }>(
    `SELECT resource_type, patient_key, version_id FROM fhir_resource WHERE institution_id = $1 ORDER BY resource_type`, [inst]);
  assert.deepEqual(stored.map((r) => [r.resource_type, r.patient_key]), [['DiagnosticReport', patient.id], ['Observation', patient.id], ['Patient', patient.id]]);
  assert.equal(stored.find((r) => r.resource_type === 'Observation')?.version_id, 2);
});
