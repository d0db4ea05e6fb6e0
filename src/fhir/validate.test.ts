import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkRequiredBindings } from './bindings.ts';
import { harness, patient, type Harness } from './test-helpers.ts';

describe('validation of incoming resources', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  const expressions = (r: { resource: any }): string[] => r.resource.issue.flatMap((i: any) => i.expression ?? []);

  it('rejects a body whose resourceType is not the URL type with 400', async () => {
    const r = await h.call('POST', 'Patient', { body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } });
    assert.equal(r.status, 400);
    assert.deepEqual(expressions(r), ['resourceType']);
  });

  it('rejects an unknown resourceType and a non-object body with 400', async () => {
    assert.equal((await h.call('POST', 'Patient', { body: { resourceType: 'Patientt' } })).status, 400);
    assert.equal((await h.call('POST', 'Patient', { body: 'not json' })).status, 400);
    assert.equal((await h.call('POST', 'Patient', { body: [patient('A')] })).status, 400);
  });

  it('rejects an invalid date with 400 naming Patient.birthDate', async () => {
    const r = await h.call('POST', 'Patient', { body: patient('D1', { birthDate: '1980-13-45' }) });
    assert.equal(r.status, 400);
    assert.deepEqual(expressions(r), ['Patient.birthDate']);
  });

  it('rejects an element the R4 StructureDefinition does not have with 400', async () => {
    const r = await h.call('POST', 'Patient', { body: patient('D2', { nickname: 'x' }) });
    assert.equal(r.status, 400);
    assert.deepEqual(expressions(r), ['Patient.nickname']);
  });

  it('rejects gender "unknownX" (outside the required administrative-gender value set) with 422', async () => {
    const r = await h.call('POST', 'Patient', { body: patient('D3', { gender: 'unknownX' }) });
    assert.equal(r.status, 422);
    assert.deepEqual(expressions(r), ['Patient.gender']);
    assert.equal(r.resource.issue[0].code, 'code-invalid');
  });

  it('rejects a missing required element (Observation.code) with 400', async () => {
    const r = await h.call('POST', 'Observation', { body: { resourceType: 'Observation', status: 'final' } });
    assert.equal(r.status, 400);
  });

  it('checks required bindings of codes, CodeableConcepts and elements inside datatypes', () => {
    assert.deepEqual(checkRequiredBindings({ resourceType: 'Observation', status: 'finished', code: { text: 'x' } } as any).map((i) => i.expression?.[0]), ['Observation.status']);
    const condition = {
      resourceType: 'Condition',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'cured' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      subject: { reference: 'Patient/1' },
    };
    assert.deepEqual(checkRequiredBindings(condition as any).map((i) => i.expression?.[0]), ['Condition.clinicalStatus']);
    const nested = { resourceType: 'Patient', identifier: [{ use: 'usual' }, { use: 'primary' }], telecom: [{ system: 'wechat', value: 'x' }] };
    assert.deepEqual(checkRequiredBindings(nested as any).map((i) => i.expression?.[0]), ['Patient.identifier[1].use', 'Patient.telecom[0].system']);
    const mr = { resourceType: 'MedicationRequest', status: 'active', intent: 'wish', subject: { reference: 'Patient/1' }, medicationCodeableConcept: { text: 'x' } };
    assert.deepEqual(checkRequiredBindings(mr as any).map((i) => i.expression?.[0]), ['MedicationRequest.intent']);
    assert.deepEqual(checkRequiredBindings({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' } } as any), []);
  });

  it('accepts a valid Patient, Condition and Encounter', async () => {
    const p = await h.call('POST', 'Patient', { body: patient('OK1') });
    assert.equal(p.status, 201);
    const c = await h.call('POST', 'Condition', {
      body: {
        resourceType: 'Condition',
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10' }] },
        subject: { reference: `Patient/${p.resource.id}` },
      },
    });
    assert.equal(c.status, 201);
    const e = await h.call('POST', 'Encounter', {
      body: { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${p.resource.id}` } },
    });
    assert.equal(e.status, 201);
  });
});
