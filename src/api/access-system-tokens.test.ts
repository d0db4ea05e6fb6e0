import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { seedRegion, type Region } from '../record/test-fixture.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const ids = (b: Bundle) => (b.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);

// Issue 10, hole 1: an institution's system token read every institution's data.
describe('institution system tokens act for their institution', () => {
  let p: TestPlatform;
  let r: Region;
  let tag: string;
  let admin: string;
  const system = async (institution: string) => {
    const res = await p.app.inject({ method: 'POST', url: `/admin/institutions/${institution}/token`, headers: bearer(admin) });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().access_token as string;
  };
  const get = async (t: string, url: string) => p.app.inject({ method: 'GET', url, headers: bearer(t) });

  before(async () => {
    p = await openTestPlatform();
    r = await seedRegion(p);
    tag = r.keys.a.slice(3);
    admin = await p.adminToken();
  });
  after(async () => p.close());

  it('gives a system no other institution’s data about a patient never seen there, and reads of it are refused', async () => {
    const d = await system(r.d.id);
    const search = await get(d, `/fhir/Observation?patient=Patient/${r.keys.a}`);
    assert.equal(search.statusCode, 200, search.body);
    assert.deepEqual(ids(search.json()), [], 'A’s glucose result is not D’s to see');
    const read = await get(d, `/fhir/Observation/ga-${tag}`);
    assert.equal(read.statusCode, 403, read.body);
    assert.equal(read.json().issue[0].details.coding[0].code, 'no-care-relationship');
    assert.equal((await get(d, `/fhir/Condition/cd-${tag}`)).statusCode, 200, 'its own submitted data it reads');
  });

  it('restricts a search naming no patient to the institution’s own rows inside the query, so totals and paging stay right', async () => {
    const d = await system(r.d.id);
    const all = await get(d, '/fhir/Condition?_count=1000&_total=accurate');
    assert.equal(all.statusCode, 200, all.body);
    assert.deepEqual(ids(all.json()), [`Condition/cd-${tag}`]);
    assert.equal((all.json() as Bundle).total, 1);
    const a = await system(r.a.id);
    const page = (await get(a, '/fhir/Observation?_count=1&_total=accurate')).json() as Bundle;
    assert.equal(page.total, 1, 'A submitted one Observation');
    assert.equal(page.link?.find((l) => l.relation === 'next'), undefined, 'no next page of other institutions’ rows');
    assert.deepEqual(ids((await get(a, '/fhir/Condition/_history')).json()), [`Condition/ca-${tag}`], 'type history: its own rows');
  });

  it('lets a system with a care relationship read the patient’s data from every institution, audited for the person', async () => {
    const a = await system(r.a.id);
    const res = await get(a, `/fhir/Condition?patient=Patient/${r.keys.b}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(ids(res.json()), [`Condition/cb-${tag}`]);
  });

  it('keeps system-wide history for the export role, whose bulk reads are audited', async () => {
    assert.equal((await get(await system(r.a.id), '/fhir/_history')).statusCode, 403);
    const tok = await p.app.inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload: { role: 'exporter', user: 'export-job' } });
    const exporter = tok.json().access_token as string;
    const hist = await get(exporter, '/fhir/_history?_count=500');
    assert.equal(hist.statusCode, 200, hist.body);
    assert.ok(ids(hist.json()).includes(`Condition/cd-${tag}`) && ids(hist.json()).includes(`Condition/ca-${tag}`));
    const bulk = await get(exporter, '/fhir/Condition?_count=1000');
    assert.equal(bulk.statusCode, 200, bulk.body);
    assert.ok(ids(bulk.json()).length >= 3, 'region-wide');
    const auditor = (await p.app.inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload: { role: 'auditor' } })).json().access_token;
    const trail = (await get(auditor, `/fhir/AuditEvent?agent=export-job&patient=Patient/${r.person}`)).json() as Bundle<AuditEvent>;
    assert.ok(trail.entry?.some((e) => e.resource?.agent?.[0].policy?.[0]?.endsWith('#export')), 'the export read is on the person’s trail');
  });
});
