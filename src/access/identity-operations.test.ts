import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Actor, Role } from '../fhir/context.ts';
import { decideIdentityOperation, identityOutcome, type IdentityOperation } from './identity-operations.ts';

const OPS: IdentityOperation[] = ['match', 'pix', 'pdq', 'review', 'merge', 'unmerge'];
const user = (role: Role, institutionId?: string): Actor => ({ kind: 'user', subject: `${role}-1`, role, institutionId, scopes: ['user/*.read'] });
const system: Actor = { kind: 'system', subject: 'his-1', institutionId: 'inst-1', scopes: ['system/*.read', 'system/*.write'] };
const admin: Actor = { kind: 'system', subject: 'admin', role: 'admin', scopes: ['system/*.read', 'system/*.write'] };

/** The decision for every operation, as a row of the doc comment's table ('-' = refused). */
const row = (a: Actor) => OPS.map((op) => {
  const d = decideIdentityOperation(a, op);
  return d.allowed ? d.output : '-';
});

describe('identity operations: who may call them and at which output level', () => {
  it('gives institution systems $match, PIXm and PDQm in their own institution’s terms, and no EMPI stewardship', () => {
    assert.deepEqual(row(system), ['own-institution', 'own-institution', 'own-institution', '-', '-', '-']);
  });

  it('gives operators and the platform admin every identity operation whole', () => {
    assert.deepEqual(row(user('operator')), ['full', 'full', 'full', 'full', 'full', 'full']);
    assert.deepEqual(row(admin), ['full', 'full', 'full', 'full', 'full', 'full']);
  });

  it('gives clinicians only the masked patient search', () => {
    assert.deepEqual(row(user('clinician', 'inst-1')), ['-', '-', 'masked', '-', '-', '-']);
  });

  it('refuses every identity operation to residents, managers, researchers, auditors and a system token of no institution', () => {
    for (const a of [user('resident'), user('manager'), user('researcher'), user('auditor'), { ...system, institutionId: undefined }]) assert.deepEqual(row(a), ['-', '-', '-', '-', '-', '-'], a.role ?? a.kind);
    const d = decideIdentityOperation(user('researcher'), 'match');
    assert.ok(!d.allowed);
    assert.equal(d.code, 'role-not-permitted');
    assert.match(d.text, /researcher.*\$match/);
  });

  it('records the declared purpose of use, else the role’s (TREAT for care, HOPERAT for operations)', () => {
    assert.equal(decideIdentityOperation(system, 'pix').purpose, 'TREAT');
    assert.equal(decideIdentityOperation(user('operator'), 'merge').purpose, 'HOPERAT');
    assert.equal(decideIdentityOperation({ ...user('operator'), purposeOfUse: 'patadmin' }, 'pix').purpose, 'PATADMIN');
  });

  it('answers a refusal as a 403 OperationOutcome carrying the stable access-outcome code', () => {
    const o = identityOutcome({ code: 'role-not-permitted', text: 'no' });
    assert.equal(o.id, 'forbidden');
    assert.equal(o.issue[0].code, 'forbidden');
    assert.deepEqual(o.issue[0].details?.coding, [{ system: 'https://healthbrain.cn/fhir/CodeSystem/access-outcome', code: 'role-not-permitted' }]);
  });
});
