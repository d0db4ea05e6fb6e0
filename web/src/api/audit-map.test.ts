import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEvent } from '@medplum/fhirtypes';
import { auditRow, auditRows } from './audit-map.ts';

const read: AuditEvent = {
  resourceType: 'AuditEvent',
  id: 'a1',
  type: { code: 'rest' },
  action: 'R',
  recorded: '2026-11-20T02:00:00Z',
  outcome: '0',
  purposeOfEvent: [{ coding: [{ code: 'ETREAT' }] }],
  meta: { security: [{ code: 'BTG' }] },
  agent: [
    { requestor: false, who: { display: 'platform' } },
    {
      requestor: true,
      who: { display: '李医生', identifier: { value: 'u-1' } },
      role: [{ coding: [{ code: 'clinician' }] }],
      location: { display: '安吉县人民医院' },
    },
  ],
  source: { observer: { display: 'healthbrain' } },
  entity: [{ what: { reference: 'Patient/p1', display: '王建国' } }],
};

test('reads the requestor agent, patient, purpose and break-the-glass flag of an AuditEvent', () => {
  const row = auditRow(read);
  assert.equal(row.agentName, '李医生');
  assert.equal(row.role, 'clinician');
  assert.equal(row.institution, '安吉县人民医院');
  assert.equal(row.patientRef, 'Patient/p1');
  assert.equal(row.purpose, 'ETREAT');
  assert.equal(row.breakGlass, true);
  assert.equal(row.outcome, 'success');
});

test('maps outcome 4 to denied and sorts a bundle newest first', () => {
  const denied: AuditEvent = { ...read, id: 'a2', outcome: '4', recorded: '2026-11-21T02:00:00Z', meta: {}, purposeOfEvent: [] };
  const rows = auditRows({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: read }, { resource: denied }] });
  assert.deepEqual(rows.map((r) => [r.id, r.outcome, r.breakGlass]), [['a2', 'denied', false], ['a1', 'success', true]]);
});
