import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle, Patient } from '@medplum/fhirtypes';
import { seedRegion, type Region } from '../record/test-fixture.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const RESIDENT_ID = 'urn:oid:2.16.156.10011.1.3';

// Issue 10, hole 4: a clinician dumped the register unmasked (Patient?gender=male&_count=1000), and the search's
// AuditEvent named no patient, so the resident's "who viewed me" never showed it.
describe('people searches on the FHIR API are bounded, masked and audited per person', () => {
  let p: TestPlatform;
  let r: Region;
  let admin: string;
  const token = async (payload: Record<string, string | undefined>) =>
    (await p.app.inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload })).json().access_token as string;
  const get = async (t: string, url: string) => p.app.inject({ method: 'GET', url, headers: bearer(t) });
  const patients = (b: Bundle) => (b.entry ?? []).map((e) => e.resource as Patient).filter((x) => x.resourceType === 'Patient');

  before(async () => {
    p = await openTestPlatform();
    r = await seedRegion(p);
    admin = await p.adminToken();
  });
  after(async () => p.close());

  it('refuses a people search by gender, birthdate or a one-character name alone', async () => {
    const dr = await token({ role: 'clinician', institution: r.d.id, user: 'dr-d' });
    for (const q of ['gender=male&_count=1000', 'birthdate=1958-03-12', `name=${encodeURIComponent('张')}`, `address=${encodeURIComponent('安吉县')}&gender=male`]) {
      const res = await get(dr, `/fhir/Patient?${q}`);
      assert.equal(res.statusCode, 403, `${q}: ${res.body}`);
      assert.equal(res.json().issue[0].details.coding[0].code, 'search-too-broad');
    }
  });

  it('caps a person’s page at 50 and masks resident ID, phone and street address of other institutions’ Patients', async () => {
    const dr = await token({ role: 'clinician', institution: r.d.id, user: 'dr-d' });
    const res = await get(dr, `/fhir/Patient?name=${encodeURIComponent('张三')}&_count=1000`);
    assert.equal(res.statusCode, 200, res.body);
    const b = res.json() as Bundle;
    assert.match(b.link!.find((l) => l.relation === 'self')!.url, /_count=50/);
    assert.equal(patients(b).length, 3);
    assert.ok(!res.body.includes(r.residentId) && !res.body.includes(r.phone) && !res.body.includes('递铺街道'), 'nothing identifying in clear');
    const one = patients(b)[0];
    assert.equal(one.identifier?.find((i) => i.system === RESIDENT_ID)?.value, `${r.residentId.slice(0, 6)}********${r.residentId.slice(-4)}`);
    assert.equal(one.telecom?.[0].value, '138****1234');
    assert.equal(one.address?.[0].text, '浙江省湖州市安吉县');
  });

  it('shows its own institution’s Patient whole to a clinician, the others masked', async () => {
    const dr = await token({ role: 'clinician', institution: r.a.id, user: 'dr-a' });
    const b = (await get(dr, `/fhir/Patient?name=${encodeURIComponent('张三')}`)).json() as Bundle;
    const rid = (x: Patient) => x.identifier?.find((i) => i.system === RESIDENT_ID)?.value;
    const byId = new Map(patients(b).map((x) => [x.id, rid(x)]));
    assert.equal(byId.get(r.keys.a), r.residentId);
    assert.notEqual(byId.get(r.keys.b), r.residentId);
  });

  it('lists every person a search returned in its AuditEvent, so each resident’s "who viewed me" shows it, and only them', async () => {
    const dr = await token({ role: 'clinician', institution: r.d.id, user: 'dr-search' });
    const res = await get(dr, `/fhir/Patient?phone=${r.phone},13900000000`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(patients(res.json()).length, 4, '张三 at A, B, C and 李四 at D');
    for (const [person, other] of [[r.person, r.other], [r.other, r.person]]) {
      const resident = await token({ role: 'resident', user: person });
      const log = await get(resident, `/fhir/AuditEvent?patient=Patient/${person}&agent=dr-search`);
      assert.equal(log.statusCode, 200, log.body);
      const events = (log.json() as Bundle<AuditEvent>).entry?.map((e) => e.resource!) ?? [];
      assert.equal(events.length, 1, `${person} sees the search that returned them`);
      const refs = events[0].entity!.map((x) => x.what?.reference).filter(Boolean);
      assert.ok(refs.includes(`Patient/${person}`));
      assert.ok(!refs.includes(`Patient/${other}`), 'not whom else it returned');
    }
    const auditor = await token({ role: 'auditor' });
    const full = (await get(auditor, `/fhir/AuditEvent?agent=dr-search`)).json() as Bundle<AuditEvent>;
    const refs = full.entry![0].resource!.entity!.map((x) => x.what?.reference);
    assert.ok(refs.includes(`Patient/${r.person}`) && refs.includes(`Patient/${r.other}`), 'the auditor sees both');
  });
});
