import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle, Observation } from '@medplum/fhirtypes';
import type { InjectOptions } from 'fastify';
import { seedRegion, type Region } from '../record/test-fixture.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const json = { 'content-type': 'application/fhir+json' };

// Issue 10, hole 3: writes checked only the scope (institution B PUT A's Observation, DELETEd A's Encounter), unaudited.
describe('an institution writes only its own data, and every write is audited', () => {
  let p: TestPlatform;
  let r: Region;
  let tag: string;
  let admin: string;
  const inject = (o: InjectOptions) => p.app.inject(o);
  const system = async (institution: string) => (await inject({ method: 'POST', url: `/admin/institutions/${institution}/token`, headers: bearer(admin) })).json().access_token as string;
  const person = async (payload: Record<string, string | undefined>) =>
    (await inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload })).json().access_token as string;
  const glucose = (value: number): Observation => ({
    resourceType: 'Observation', id: `ga-${tag}`, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '14749-6' }] },
    subject: { reference: `Patient/${r.keys.a}` }, valueQuantity: { value, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
  });
  const trail = async (query: string) => {
    const res = await inject({ method: 'GET', url: `/fhir/AuditEvent?${query}`, headers: bearer(await person({ role: 'auditor' })) });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as Bundle<AuditEvent>).entry!.map((e) => e.resource!);
  };
  const version = async (url: string) => (await inject({ method: 'GET', url, headers: bearer(admin) })).json().meta?.versionId;

  before(async () => {
    p = await openTestPlatform();
    r = await seedRegion(p);
    tag = r.keys.a.slice(3);
    admin = await p.adminToken();
  });
  after(async () => p.close());

  it('refuses another institution’s system an update, a delete and a conditional delete of A’s data', async () => {
    const b = await system(r.b.id);
    const put = await inject({ method: 'PUT', url: `/fhir/Observation/ga-${tag}`, headers: { ...bearer(b), ...json }, payload: glucose(9.9) });
    assert.equal(put.statusCode, 403, put.body);
    assert.equal(put.json().issue[0].details.coding[0].code, 'not-own-data');
    assert.equal((await inject({ method: 'DELETE', url: `/fhir/Encounter/ea-${tag}`, headers: bearer(b) })).statusCode, 403);
    assert.equal((await inject({ method: 'DELETE', url: `/fhir/Encounter?_id=ea-${tag}`, headers: bearer(b) })).statusCode, 403);
    assert.equal((await inject({ method: 'PUT', url: `/fhir/Observation?_id=ga-${tag}`, headers: { ...bearer(b), ...json }, payload: glucose(9.9) })).statusCode, 403);
    assert.equal(await version(`/fhir/Observation/ga-${tag}`), '1', 'nothing changed');
    assert.equal(await version(`/fhir/Encounter/ea-${tag}`), '1');
    const refused = await trail(`agent=${encodeURIComponent((await p.app.inject({ method: 'GET', url: '/api/me', headers: bearer(b) })).json().subject)}&outcome=4`);
    assert.ok(refused.some((e) => e.action === 'U') && refused.some((e) => e.action === 'D'), 'refused writes are audited');
  });

  it('refuses a clinician who may read the patient a change of another institution’s data, in a Bundle too', async () => {
    const dr = await person({ role: 'clinician', institution: r.c.id, user: 'dr-c' });
    assert.equal((await inject({ method: 'GET', url: `/fhir/Observation/ga-${tag}`, headers: bearer(dr) })).statusCode, 200, 'C has a care relationship');
    const put = await inject({ method: 'PUT', url: `/fhir/Observation/ga-${tag}`, headers: { ...bearer(dr), ...json }, payload: glucose(1.1) });
    assert.equal(put.statusCode, 403, put.body);
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PUT', url: `Observation?_id=ga-${tag}` }, resource: glucose(1.2) }] };
    const tx = await inject({ method: 'POST', url: '/fhir', headers: { ...bearer(dr), ...json }, payload: bundle });
    assert.equal(tx.statusCode, 403, tx.body);
    assert.equal(await version(`/fhir/Observation/ga-${tag}`), '1');
  });

  it('lets the submitting institution update and delete its own data, audited with the versions before and after', async () => {
    const a = await system(r.a.id);
    const client = (await inject({ method: 'GET', url: '/api/me', headers: bearer(a) })).json().subject as string;
    const put = await inject({ method: 'PUT', url: `/fhir/Observation/ga-${tag}`, headers: { ...bearer(a), ...json }, payload: glucose(6.1) });
    assert.equal(put.statusCode, 200, put.body);
    const del = await inject({ method: 'DELETE', url: `/fhir/Observation/ga-${tag}`, headers: bearer(a) });
    assert.equal(del.statusCode, 200, del.body);
    const created = await inject({ method: 'POST', url: '/fhir/Observation', headers: { ...bearer(a), ...json }, payload: { ...glucose(5), id: undefined } });
    assert.equal(created.statusCode, 201, created.body);
    const events = await trail(`agent=${encodeURIComponent(client)}&outcome=0&_count=50`);
    const of = (action: string) => events.find((e) => e.action === action && e.entity?.some((x) => x.what?.reference?.startsWith('Observation/')));
    const detail = (e: AuditEvent | undefined) => Object.fromEntries(e?.entity?.flatMap((x) => x.detail ?? []).map((d) => [d.type, d.valueString]) ?? []);
    assert.deepEqual(detail(of('U')), { 'versionId-before': '1', 'versionId-after': '2' });
    assert.deepEqual(detail(of('D')), { 'versionId-before': '2', 'versionId-after': '3' });
    assert.deepEqual(detail(of('C')), { 'versionId-after': '1' });
    assert.ok(of('U')!.entity!.some((x) => x.what?.reference === `Patient/${r.person}`), 'the write names the person');
  });

  it('leaves data no institution submitted to operators and the admin', async () => {
    const op = await person({ role: 'operator', user: 'op-1' });
    const org = { resourceType: 'Organization', name: '县卫健委' };
    const made = await inject({ method: 'POST', url: '/fhir/Organization', headers: { ...bearer(op), ...json }, payload: org });
    assert.equal(made.statusCode, 201, made.body);
    const id = made.json().id;
    const a = await system(r.a.id);
    assert.equal((await inject({ method: 'PUT', url: `/fhir/Organization/${id}`, headers: { ...bearer(a), ...json }, payload: { ...org, id, name: 'x' } })).statusCode, 403);
    assert.equal((await inject({ method: 'PUT', url: `/fhir/Organization/${id}`, headers: { ...bearer(op), ...json }, payload: { ...org, id, name: '安吉县卫健委' } })).statusCode, 200);
  });
});
