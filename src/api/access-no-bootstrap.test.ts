import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions } from 'fastify';
import { seedRegion, type Region } from '../record/test-fixture.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const json = { 'content-type': 'application/fhir+json' };
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

// Issue 10, hole 2: a clinician created a care relationship with an ad-hoc POST /fhir/Encounter, then read the record.
describe('care relationships come only from what institutions submit', () => {
  let p: TestPlatform;
  let r: Region;
  let admin: string;
  const inject = (o: InjectOptions) => p.app.inject(o);
  const token = async (payload: Record<string, string | undefined>) =>
    (await inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload })).json().access_token as string;
  const encounter = (patientKey: string) => ({
    resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: `Patient/${patientKey}` }, period: { start: daysAgo(1) },
  });
  const summary = async (t: string) => inject({ method: 'GET', url: `/api/record/${r.person}/summary`, headers: bearer(t) });

  before(async () => {
    p = await openTestPlatform();
    r = await seedRegion(p);
    admin = await p.adminToken();
  });
  after(async () => p.close());

  it('refuses a clinician’s write about a patient they may not read, so no relationship can be bootstrapped', async () => {
    const dr = await token({ role: 'clinician', institution: r.d.id, user: 'dr-d' });
    const post = await inject({ method: 'POST', url: '/fhir/Encounter', headers: { ...bearer(dr), ...json }, payload: encounter(r.keys.a) });
    assert.equal(post.statusCode, 403, post.body);
    assert.equal(post.json().issue[0].details.coding[0].code, 'no-care-relationship');
    assert.equal((await summary(dr)).statusCode, 403, 'still no record');
    const put = await inject({ method: 'PUT', url: '/fhir/Encounter/adhoc-1', headers: { ...bearer(dr), ...json }, payload: { ...encounter(r.keys.a), id: 'adhoc-1' } });
    assert.equal(put.statusCode, 403, 'update-as-create is a write too');
  });

  it('does not count an encounter a person wrote: when the resident’s authorization ends, so does the access', async () => {
    const e = await p.addInstitution();
    const dr = await token({ role: 'clinician', institution: e.id, user: 'dr-e' });
    const resident = await token({ role: 'resident', user: r.person });
    const grant = await inject({ method: 'POST', url: '/api/consents', headers: bearer(resident), payload: { institution: e.id } });
    assert.equal(grant.statusCode, 201, grant.body);
    const post = await inject({ method: 'POST', url: '/fhir/Encounter', headers: { ...bearer(dr), ...json }, payload: encounter(r.keys.a) });
    assert.equal(post.statusCode, 201, 'an authorized clinician may write');
    await inject({ method: 'POST', url: `/api/consents/${grant.json().id}/revoke`, headers: bearer(resident) });
    const after = await summary(dr);
    assert.equal(after.statusCode, 403, 'the clinician’s own Encounter is no care relationship');
    assert.equal(after.json().issue[0].details.coding[0].code, 'no-care-relationship');
  });

  it('counts an encounter the institution’s own system submitted', async () => {
    const f = await p.addInstitution();
    const dr = await token({ role: 'clinician', institution: f.id, user: 'dr-f' });
    assert.equal((await summary(dr)).statusCode, 403);
    const post = await inject({ method: 'POST', url: '/fhir/Encounter', headers: { ...bearer(f.token), ...json }, payload: encounter(r.keys.a) });
    assert.equal(post.statusCode, 201, post.body);
    const res = await summary(dr);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().access.basis, 'care-relationship');
  });
});
