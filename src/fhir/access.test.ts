import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Actor } from './context.ts';
import { scopeAllows } from './access.ts';
import { createFhirServices } from './services.ts';
import { handleFhirRequest } from './router.ts';
import { outcomeStatus } from './outcomes.ts';
import { harness, patient, systemCtx, type Harness } from './test-helpers.ts';

const actor = (scopes: string[]): Actor => ({ kind: 'system', subject: 'c', scopes });

describe('SMART scopes', () => {
  it('grants reads and searches with v1 .read, writes with v1 .write, everything with .*', () => {
    assert.ok(scopeAllows(actor(['system/*.read']), 'read', 'Patient'));
    assert.ok(scopeAllows(actor(['system/*.read']), 'search-type', 'Observation'));
    assert.ok(!scopeAllows(actor(['system/*.read']), 'create', 'Patient'));
    assert.ok(scopeAllows(actor(['system/*.write']), 'update', 'Patient'));
    assert.ok(!scopeAllows(actor(['system/*.write']), 'read', 'Patient'));
    assert.ok(scopeAllows(actor(['user/*.*']), 'delete', 'Condition'));
  });

  it('limits a typed scope to its resource type', () => {
    assert.ok(scopeAllows(actor(['system/Patient.read']), 'read', 'Patient'));
    assert.ok(!scopeAllows(actor(['system/Patient.read']), 'read', 'Observation'));
    assert.ok(!scopeAllows(actor(['system/Patient.read']), 'history-system', '*'));
  });

  it('reads v2 permission letters (c r u d s)', () => {
    assert.ok(scopeAllows(actor(['system/Patient.rs']), 'search-type', 'Patient'));
    assert.ok(!scopeAllows(actor(['system/Patient.rs']), 'create', 'Patient'));
    assert.ok(scopeAllows(actor(['system/*.cu']), 'create', 'Observation'));
    assert.ok(!scopeAllows(actor(['system/*.cu']), 'delete', 'Observation'));
    assert.ok(!scopeAllows(actor(['system/*.r']), 'search-type', 'Observation'));
  });

  it('grants nothing for patient/ scopes until the patient-compartment rule exists, nor for junk', () => {
    assert.ok(!scopeAllows(actor(['patient/*.read']), 'read', 'Patient'));
    assert.ok(!scopeAllows(actor(['openid', 'system/*']), 'read', 'Patient'));
  });
});

describe('access hook in the router', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it('answers 403 with an OperationOutcome when the scope is missing', async () => {
    const readOnly = systemCtx(['system/*.read']);
    const r = await h.call('POST', 'Patient', { body: patient('S1'), ctx: readOnly });
    assert.equal(r.status, 403);
    assert.equal(r.resource.resourceType, 'OperationOutcome');
    const created = await h.call('POST', 'Patient', { body: patient('S1') });
    assert.equal((await h.call('GET', `Patient/${created.resource.id}`, { ctx: systemCtx(['system/Observation.read']) })).status, 403);
    assert.equal((await h.call('GET', 'Patient', { ctx: systemCtx(['system/Observation.read']) })).status, 403);
    assert.equal((await h.call('GET', `Patient/${created.resource.id}`, { ctx: systemCtx(['system/Patient.read']) })).status, 200);
  });

  it('leaves out included resources of types the actor may not read', async () => {
    const p = await h.call('POST', 'Patient', { body: patient('S-INC') });
    await h.call('POST', 'Observation', { body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${p.resource.id}` } } });
    const query = `patient=${p.resource.id}&_include=Observation:subject`;
    const narrow = await h.call('GET', 'Observation', { query, ctx: systemCtx(['system/Observation.rs']) });
    assert.deepEqual(narrow.resource.entry.map((e: any) => e.resource.resourceType), ['Observation']);
    const wide = await h.call('GET', 'Observation', { query, ctx: systemCtx(['system/Observation.rs', 'system/Patient.r']) });
    assert.deepEqual(wide.resource.entry.map((e: any) => e.resource.resourceType), ['Observation', 'Patient']);
  });

  it('refuses a whole transaction when one entry needs a scope the actor lacks', async () => {
    const bundle = {
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { resource: patient('S2'), request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Organization', name: 'O' }, request: { method: 'POST', url: 'Organization' } },
      ],
    };
    const r = await h.call('POST', '', { body: bundle, ctx: systemCtx(['system/Patient.write']) });
    assert.equal(r.status, 403);
    assert.equal((await h.call('GET', 'Patient', { query: 'identifier=S2' })).resource.entry.length, 0);
  });

  it('runs the access rules later issues add, after the scope check', async () => {
    const services = createFhirServices({ db: h.db, accessRules: [(_ctx, req) => (req.resourceType === 'Patient' && req.interaction === 'read' ? 'no consent' : undefined)] });
    const created = await h.call('POST', 'Patient', { body: patient('S3') });
    const res = await handleFhirRequest({ method: 'GET', path: `Patient/${created.resource.id}`, query: [], headers: {} }, systemCtx(), services);
    assert.equal(outcomeStatus(res.outcome), 403);
    assert.match(res.outcome.issue[0].details?.text ?? '', /no consent/);
  });
});
