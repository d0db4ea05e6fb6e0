import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCapabilityStatement } from './capability.ts';
import { allOk, outcomeStatus } from './outcomes.ts';
import { handleFhirRequest } from './router.ts';
import { createFhirServices } from './services.ts';
import { harness, patient, systemCtx, type Harness } from './test-helpers.ts';

describe('CapabilityStatement and operations', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it('is served at metadata and lists the search parameters implemented for each type', async () => {
    const r = await h.call('GET', 'metadata', { ctx: systemCtx([]) });
    assert.equal(r.status, 200);
    assert.equal(r.resource.resourceType, 'CapabilityStatement');
    assert.equal(r.resource.fhirVersion, '4.0.1');
    const res = (t: string) => r.resource.rest[0].resource.find((x: any) => x.type === t);
    const names = (t: string) => res(t).searchParam.map((p: any) => p.name).sort();
    assert.deepEqual(names('Patient'), ['_id', '_lastUpdated', 'active', 'address', 'address-city', 'address-state', 'birthdate', 'email', 'family', 'gender', 'general-practitioner', 'given', 'identifier', 'link', 'name', 'organization', 'phone', 'telecom'].sort());
    for (const p of ['patient', 'subject', 'date', 'code', 'category', 'status', 'encounter', 'performer']) assert.ok(names('Observation').includes(p), p);
    for (const p of ['class', 'status', 'date', 'patient']) assert.ok(names('Encounter').includes(p), p);
    assert.ok(names('Condition').includes('clinical-status'));
    assert.ok(names('Immunization').includes('vaccine-code'));
    assert.ok(res('Observation').searchInclude.includes('Observation:subject'));
    assert.ok(res('Patient').searchRevInclude.includes('Observation:patient'));
    assert.deepEqual(r.resource.rest[0].interaction.map((i: any) => i.code), ['transaction', 'batch', 'history-system']);
  });

  it('advertises only search parameters that work: every advertised parameter of the main types answers 200', async () => {
    const cs = buildCapabilityStatement('https://x', h.services);
    const sample: Record<string, string> = { token: 'x', string: 'ab', date: 'ge2020-01-01', reference: 'Patient/1' };
    for (const type of ['Patient', 'Encounter', 'Condition', 'Observation', 'DiagnosticReport', 'MedicationRequest', 'Procedure', 'Immunization', 'Organization', 'Practitioner']) {
      const res = cs.rest?.[0].resource?.find((x) => x.type === type);
      for (const p of res?.searchParam ?? []) {
        const value = p.name === '_id' ? 'abc' : sample[p.type];
        const r = await h.call('GET', type, { query: [[p.name, value]] });
        assert.equal(r.status, 200, `${type}?${p.name}=${value}: ${JSON.stringify(r.resource)}`);
      }
      for (const inc of res?.searchInclude ?? []) {
        assert.equal((await h.call('GET', type, { query: [['_include', inc]] })).status, 200, inc);
      }
    }
  });

  it('answers an unexpected failure with a 500 OperationOutcome without internals, and reports it to onError', async () => {
    const seen: unknown[] = [];
    const services = createFhirServices({ db: h.db, onError: (err) => seen.push(err) });
    services.registerOperation('*', 'boom', async () => {
      throw new Error('secret stack detail');
    });
    const res = await handleFhirRequest({ method: 'POST', path: '$boom', query: [], headers: {} }, systemCtx(), services);
    assert.equal(outcomeStatus(res.outcome), 500);
    assert.doesNotMatch(JSON.stringify(res.outcome), /secret/);
    assert.equal(seen.length, 1);
  });

  it('routes registered operations and lists them, with no global registry', async () => {
    h.services.registerOperation('Patient', 'everything', async (_req, _ctx, _s, target) => ({ outcome: allOk, resource: { resourceType: 'Bundle', type: 'searchset', id: target.id } }), { instance: true });
    const p = await h.call('POST', 'Patient', { body: patient('OP-1') });
    const r = await h.call('GET', `Patient/${p.resource.id}/$everything`);
    assert.equal(r.status, 200);
    assert.equal(r.resource.id, p.resource.id);
    assert.equal((await h.call('GET', 'Patient/$match')).status, 404);
    assert.equal((await h.call('GET', `Patient/${p.resource.id}/$everything`, { ctx: systemCtx(['system/Observation.read']) })).status, 403);
    const cs = buildCapabilityStatement('https://x', h.services);
    assert.deepEqual(cs.rest?.[0].resource?.find((x) => x.type === 'Patient')?.operation?.map((o) => o.name), ['everything']);
    const other = await harness();
    try {
      assert.equal((await other.call('GET', `Patient/${p.resource.id}/$everything`)).status, 404, 'registrations belong to one services object');
    } finally {
      await other.close();
    }
  });
});
