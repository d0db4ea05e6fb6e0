import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import type { InjectOptions } from 'fastify';
import { mergePersons, unmergePersons } from '../empi/index.ts';
import { organizationId } from '../standardize/ids.ts';
import { consentResource } from '../access/index.ts';
import type { PatientSearchResult, RecordSummary } from '../record/index.ts';
import { seedRegion, type Region } from '../record/test-fixture.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('record API access rules (issue 6)', () => {
  let p: TestPlatform;
  let r: Region;
  let token: (role: string, institution?: string, user?: string) => Promise<string>;
  const inject = (opts: InjectOptions) => p.app.inject(opts);
  const summary = async (t: string, person: string, body?: unknown) =>
    inject({ method: body ? 'POST' : 'GET', url: `/api/record/${person}/summary`, headers: bearer(t), ...(body ? { payload: body as object } : {}) });
  const audits = async (t: string, query: string) => inject({ method: 'GET', url: `/fhir/AuditEvent?${query}`, headers: bearer(t) });

  before(async () => {
    p = await openTestPlatform();
    r = await seedRegion(p);
    const admin = await p.adminToken();
    token = async (role, institution, user) => {
      const res = await inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload: { role, institution, user } });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().access_token;
    };
  });
  after(async () => p.close());

  it('gives a clinician with a recent encounter at their institution the record with items from all linked institutions', async () => {
    const res = await summary(await token('clinician', r.a.id, 'dr-a'), r.person);
    assert.equal(res.statusCode, 200, res.body);
    const s: RecordSummary = res.json();
    assert.equal(s.access.basis, 'care-relationship');
    assert.ok(s.access.auditEventId);
    assert.equal(s.demographics.name, '张三');
    assert.deepEqual(new Set(s.demographics.links.map((l) => l.institution.id)), new Set([r.a.id, r.b.id, r.c.id]));
    const from = new Set([...s.problems, ...s.encounters, ...s.exams, ...s.immunizations, ...s.medications].map((i) => i.institution.id));
    assert.deepEqual(from, new Set([r.a.id, r.b.id, r.c.id]));
    assert.deepEqual(s.problems.map((x) => x.code.code).sort(), ['E11.9', 'I10']);
    assert.equal(s.allergies[0].substance.display, '阿莫西林');
    assert.equal(s.exams[0].findings, '双肺纹理清晰');
    assert.equal(s.followUps[0].assessment, 'controlled');
    assert.equal(s.followUps[0].method, 'phone');
    assert.equal(s.encounters[0].institution.name, r.a.name, 'newest first, with the source institution');
    assert.equal(s.demographics.residentId, r.residentId, 'an authorized clinician sees the identifier whole in the record view');
  });

  it('puts lab results sent in different units by different institutions into one series in one unit', async () => {
    const s: RecordSummary = (await summary(await token('clinician', r.a.id, 'dr-a'), r.person)).json();
    const glucose = s.labs.find((l) => l.code.code === '14749-6');
    assert.ok(glucose, JSON.stringify(s.labs.map((l) => l.code)));
    assert.equal(glucose.unit, 'mmol/L');
    assert.equal(glucose.points.length, 3);
    assert.deepEqual(glucose.points.map((x) => x.institution.id), [r.b.id, r.c.id, r.a.id], 'ascending dates');
    assert.ok(Math.abs(glucose.points[0].value - 126 / 18.0156) < 0.01, `126 mg/dL → ${glucose.points[0].value}`);
    assert.ok(Math.abs(glucose.points[1].value - 110 / 18.0156) < 0.01, `110 mg/dL → ${glucose.points[1].value}`);
    assert.equal(glucose.points[2].value, 5.6);
  });

  it('refuses a clinician without a care relationship with no-care-relationship, and audits the denial', async () => {
    const t = await token('clinician', r.d.id, 'dr-d');
    const res = await summary(t, r.person);
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().issue[0].details.coding[0].code, 'no-care-relationship');
    const auditor = await token('auditor', undefined, 'aud-1');
    const found = await audits(auditor, `patient=Patient/${r.person}&agent=dr-d&outcome=4`);
    assert.equal(found.statusCode, 200, found.body);
    const events = (found.json() as Bundle<AuditEvent>).entry!.map((e) => e.resource!);
    assert.ok(events.length >= 1);
    assert.equal(events[0].outcome, '4');
    assert.equal(events[0].agent![0].who!.identifier!.value, 'dr-d');
    assert.equal(events[0].agent![0].location!.display, r.d.name);
  });

  it('counts a referral to the institution and a family-doctor contract with it as care relationships', async () => {
    const [e, f] = [await p.addInstitution(), await p.addInstitution()];
    const repo = p.deps.fhirServices.repo;
    const e0 = await token('clinician', e.id, 'dr-e');
    assert.equal((await summary(e0, r.person)).statusCode, 403);
    await repo.create({ institutionId: r.a.id }, {
      resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: `Patient/${r.keys.a}` }, authoredOn: new Date().toISOString(),
      category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] }],
      performer: [{ reference: `Organization/${organizationId(e.id)}` }],
    });
    const referred = await summary(e0, r.person);
    assert.equal(referred.statusCode, 200, referred.body);
    assert.equal(referred.json().access.basis, 'care-relationship');
    const f0 = await token('clinician', f.id, 'dr-f');
    assert.equal((await summary(f0, r.person)).statusCode, 403);
    await repo.create({ institutionId: f.id }, {
      resourceType: 'EpisodeOfCare', status: 'active', patient: { reference: `Patient/${r.keys.c}` }, managingOrganization: { reference: `Organization/${organizationId(f.id)}` },
      type: [{ coding: [{ system: 'https://healthbrain.cn/fhir/CodeSystem/record-kind', code: 'family-doctor-contract', display: '家庭医生签约' }] }],
      period: { start: '2026-01-01' },
    });
    assert.equal((await summary(f0, r.person)).statusCode, 200);
  });

  it('lets the care window lapse: an encounter two years ago is no relationship', async () => {
    assert.equal((await summary(await token('clinician', r.b.id, 'dr-b'), r.person)).statusCode, 403);
  });

  it('grants break-the-glass with a reason, flagged for review, and refuses it without one', async () => {
    const t = await token('clinician', r.d.id, 'dr-d2');
    const noReason = await summary(t, r.person, { purposeOfUse: 'ETREAT' });
    assert.equal(noReason.statusCode, 403);
    const res = await summary(t, r.person, { purposeOfUse: 'ETREAT', reason: '急诊昏迷，需要既往史' });
    assert.equal(res.statusCode, 200, res.body);
    const s: RecordSummary = res.json();
    assert.equal(s.access.basis, 'break-the-glass');
    const ev = await inject({ method: 'GET', url: `/fhir/AuditEvent/${s.access.auditEventId}`, headers: bearer(await token('auditor')) });
    const audit: AuditEvent = ev.json();
    assert.equal(audit.meta?.security?.[0].code, 'BTG');
    assert.equal(audit.purposeOfEvent?.[0].coding?.[0].code, 'ETREAT');
    assert.equal(audit.entity?.find((e) => e.detail)?.detail?.[0].valueString, '急诊昏迷，需要既往史');
    const review = await audits(await token('auditor'), `policy=${encodeURIComponent('https://healthbrain.cn/fhir/CodeSystem/access-basis#break-the-glass')}`);
    assert.ok((review.json() as Bundle<AuditEvent>).entry!.some((e) => e.resource!.id === s.access.auditEventId), 'the review list of break-the-glass reads');
  });

  it('lets a resident see their own record and who read it, and nobody else’s', async () => {
    const t = await token('resident', undefined, r.person);
    const me = await inject({ method: 'GET', url: '/api/me', headers: bearer(t) });
    assert.equal(me.json().personId, r.person);
    const own = await summary(t, r.person);
    assert.equal(own.statusCode, 200);
    assert.equal(own.json().access.basis, 'self');
    const other = await summary(t, r.other);
    assert.equal(other.statusCode, 403);
    assert.notEqual(other.json().issue[0].details.coding[0].code, 'no-care-relationship', 'no break-the-glass offer to a resident');
    const log = await audits(t, `patient=Patient/${r.person}&_sort=-date`);
    assert.equal(log.statusCode, 200, log.body);
    const readers = new Set((log.json() as Bundle<AuditEvent>).entry!.map((e) => e.resource!.agent![0].who!.identifier!.value));
    assert.ok(readers.has('dr-a'), [...readers].join(','));
    assert.equal((await audits(t, `patient=Patient/${r.other}`)).statusCode, 403);
    assert.equal((await audits(t, '')).statusCode, 403);
  });

  it('lets a resident authorize a clinician’s institution with a Consent, and revocation takes it away', async () => {
    const res = await inject({ method: 'POST', url: '/api/consents', headers: bearer(await token('resident', undefined, r.residentId)), payload: { institution: r.b.id } });
    assert.equal(res.statusCode, 201, res.body);
    const doctor = await token('clinician', r.b.id, 'dr-b');
    const ok = await summary(doctor, r.person);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().access.basis, 'resident-authorization');
    const resident = await token('resident', undefined, r.person);
    const revoked = await inject({ method: 'POST', url: `/api/consents/${res.json().id}/revoke`, headers: bearer(resident) });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal(revoked.json().status, 'inactive');
    assert.equal((await summary(doctor, r.person)).statusCode, 403);
    const stranger = await token('resident', undefined, r.other);
    assert.equal((await inject({ method: 'POST', url: `/api/consents/${res.json().id}/revoke`, headers: bearer(stranger) })).statusCode, 404);
  });

  it('lets a resident write Consents through FHIR only for themself', async () => {
    const t = await token('resident', undefined, r.person);
    const body = (person: string) => ({ ...consentResource({ personId: person, institutionId: r.d.id, now: new Date() }) });
    const own = await inject({ method: 'POST', url: '/fhir/Consent', headers: { ...bearer(t), 'content-type': 'application/fhir+json' }, payload: body(r.person) });
    assert.equal(own.statusCode, 201, own.body);
    const other = await inject({ method: 'POST', url: '/fhir/Consent', headers: { ...bearer(t), 'content-type': 'application/fhir+json' }, payload: body(r.other) });
    assert.equal(other.statusCode, 403);
    const list = await inject({ method: 'GET', url: `/fhir/Consent?patient=Patient/${r.person}`, headers: bearer(t) });
    assert.equal(list.statusCode, 200, list.body);
    assert.ok((list.json() as Bundle).entry!.some((e) => e.resource!.id === own.json().id));
    const clinician = await inject({ method: 'POST', url: '/fhir/Consent', headers: { ...bearer(await token('clinician', r.d.id, 'dr-d')), 'content-type': 'application/fhir+json' }, payload: body(r.person) });
    assert.equal(clinician.statusCode, 403, 'a clinician cannot grant themself access');
    await inject({ method: 'POST', url: `/api/consents/${own.json().id}/revoke`, headers: bearer(t) });
  });

  it('keeps operators out of clinical records unless they break the glass, and researchers and managers out entirely', async () => {
    const op = await token('operator', undefined, 'op-1');
    const refused = await summary(op, r.person);
    assert.equal(refused.statusCode, 403);
    const glass = await summary(op, r.person, { purposeOfUse: 'ETREAT', reason: '数据质量核查' });
    assert.equal(glass.statusCode, 200);
    assert.equal(glass.json().access.basis, 'operator');
    for (const role of ['researcher', 'manager', 'auditor']) {
      const res = await summary(await token(role), r.person, { purposeOfUse: 'ETREAT', reason: 'x' });
      assert.equal(res.statusCode, 403, role);
      assert.equal(res.json().issue[0].details.coding[0].code, 'role-not-permitted');
    }
    assert.equal((await inject({ method: 'GET', url: '/admin/overview', headers: bearer(await token('manager')) })).statusCode, 200);
    assert.equal((await inject({ method: 'GET', url: '/admin/overview', headers: bearer(await token('researcher')) })).statusCode, 403);
    assert.equal((await inject({ method: 'GET', url: '/api/patients?q=张三', headers: bearer(await token('researcher')) })).statusCode, 403);
    assert.equal((await audits(await token('clinician', r.a.id, 'dr-a'), `patient=Patient/${r.person}`)).statusCode, 403, 'clinicians do not read the audit trail');
  });

  it('masks resident ID and phone in patient lists', async () => {
    const res = await inject({ method: 'GET', url: `/api/patients?q=${r.residentId}&by=any`, headers: bearer(await token('clinician', r.a.id, 'dr-a')) });
    assert.equal(res.statusCode, 200, res.body);
    const found: PatientSearchResult = res.json();
    assert.equal(found.hits.length, 1);
    assert.equal(found.hits[0].personId, r.person);
    assert.equal(found.hits[0].residentIdMasked, `${r.residentId.slice(0, 6)}********${r.residentId.slice(-4)}`);
    assert.equal(found.hits[0].phoneMasked, '138****1234');
    assert.ok(!res.body.includes(r.residentId) && !res.body.includes(r.phone), 'no identifier in clear anywhere in the list');
    assert.equal(found.hits[0].institutions.length, 3);
    const byName = (await inject({ method: 'GET', url: `/api/patients?q=${encodeURIComponent('张三')}`, headers: bearer(await token('operator')) })).json();
    assert.ok(byName.hits.some((h: { personId: string }) => h.personId === r.person));
  });

  it('searches AuditEvents by patient, agent, date and outcome', async () => {
    const auditor = await token('auditor', undefined, 'aud-2');
    const today = new Date().toISOString().slice(0, 10);
    const all = (await audits(auditor, `patient=Patient/${r.person}&date=ge${today}&_sort=-date&_count=200`)).json() as Bundle<AuditEvent>;
    assert.ok(all.entry!.length >= 5);
    assert.ok(all.entry!.every((e) => e.resource!.entity!.some((x) => x.what?.reference === `Patient/${r.person}`)));
    const success = (await audits(auditor, `patient=Patient/${r.person}&outcome=0&agent=dr-a`)).json() as Bundle<AuditEvent>;
    assert.ok(success.entry!.length >= 1 && success.entry!.every((e) => e.resource!.outcome === '0'));
    const none = (await audits(auditor, `patient=Patient/${r.person}&date=lt2000-01-01`)).json() as Bundle<AuditEvent>;
    assert.equal(none.entry?.length ?? 0, 0);
    const chain = await inject({ method: 'GET', url: '/admin/audit/verify', headers: bearer(auditor) });
    assert.equal(chain.json().ok, true, chain.body);
  });

  it('applies the same rules to FHIR reads and Patient/$everything, with paging across all linked Patients', async () => {
    const a = await token('clinician', r.a.id, 'dr-a');
    const d = await token('clinician', r.d.id, 'dr-d');
    assert.equal((await inject({ method: 'GET', url: `/fhir/Condition?patient=Patient/${r.keys.b}`, headers: bearer(a) })).statusCode, 200);
    const denied = await inject({ method: 'GET', url: `/fhir/Condition?patient=Patient/${r.keys.b}`, headers: bearer(d) });
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.json().issue[0].details.coding[0].code, 'no-care-relationship');
    assert.equal((await inject({ method: 'GET', url: '/fhir/Condition', headers: bearer(a) })).statusCode, 403, 'no cross-patient search');
    assert.equal((await inject({ method: 'GET', url: `/fhir/Patient?name=${encodeURIComponent('张三')}`, headers: bearer(d) })).statusCode, 200, 'demographic search (PDQ)');
    const leak = await inject({ method: 'GET', url: `/fhir/Patient?name=${encodeURIComponent('张三')}&_revinclude=Condition:patient`, headers: bearer(d) });
    assert.equal(leak.statusCode, 403, 'a demographic search may not pull clinical data of every hit');
    assert.equal((await inject({ method: 'GET', url: `/fhir/Patient/${r.keys.c}/$everything`, headers: bearer(d) })).statusCode, 403);
    const ids = new Set<string>();
    let url: string | undefined = `/fhir/Patient/${r.keys.c}/$everything?_count=4`;
    let total = 0;
    while (url) {
      const page = await inject({ method: 'GET', url, headers: bearer(a) });
      assert.equal(page.statusCode, 200, page.body);
      const b = page.json() as Bundle;
      total = b.total ?? total;
      for (const e of b.entry ?? []) ids.add(`${e.resource!.resourceType}/${e.resource!.id}`);
      const next = b.link?.find((l) => l.relation === 'next')?.url;
      url = next ? next.slice(next.indexOf('/fhir/')) : undefined;
    }
    assert.equal(ids.size, total);
    for (const k of Object.values(r.keys)) assert.ok(ids.has(`Patient/${k}`), k);
    assert.ok(ids.has(`DiagnosticReport/${[...ids].find((i) => i.startsWith('DiagnosticReport/'))!.split('/')[1]}`));
    assert.ok(!ids.has(`Patient/${r.otherKey}`));
  });

  it('sums accepted messages per institution, channel and day for the region overview', async () => {
    const now = new Date();
    for (const [channel, status] of [['fhir', 'standardized'], ['hl7-mllp', 'standardized'], ['hl7-http', 'quarantined'], ['csv', 'standardized']]) {
      await p.deps.db.query(
        `INSERT INTO landed_unit (institution_id, channel, content_type, encoding, received_at, content_hash, content, status)
         VALUES ($1, $2, 'text/plain', 'utf-8', $3, decode(md5(random()::text), 'hex'), '\\x00'::bytea, $4)`,
        [r.c.id, channel, now.toISOString(), status],
      );
    }
    const res = await inject({ method: 'GET', url: '/admin/overview', headers: bearer(await token('operator')) });
    assert.equal(res.statusCode, 200, res.body);
    const o = res.json();
    const c = o.institutions.find((i: { institution: { id: string } }) => i.institution.id === r.c.id);
    assert.deepEqual(c.received, { fhir: 1, hl7v2: 2, csv: 1 });
    assert.equal(c.quarantined, 1);
    assert.equal(o.daily.length, 14);
    // The last day is today in the region (Beijing, UTC+8), whatever the server's or UTC's date.
    const beijingToday = new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
    assert.deepEqual(o.daily[13], { day: beijingToday, fhir: 1, hl7v2: 2, csv: 1 });
    assert.ok(o.totals.persons >= 2 && o.totals.resources > 10 && o.totals.institutions >= 4);
  });

  it('resolves identity at query time: a merge brings the other person’s items in, the unmerge takes them out', async () => {
    const t = await token('clinician', r.a.id, 'dr-a');
    const before = (await summary(t, r.person)).json() as RecordSummary;
    assert.ok(!before.problems.some((x) => x.code.code === 'J45.9'));
    const merge = await mergePersons(p.deps.db, r.person, r.other);
    const merged = (await summary(t, r.person)).json() as RecordSummary;
    assert.ok(merged.problems.some((x) => x.code.code === 'J45.9' && x.institution.id === r.d.id));
    await unmergePersons(p.deps.db, merge!);
    const after = (await summary(t, r.person)).json() as RecordSummary;
    assert.ok(!after.problems.some((x) => x.code.code === 'J45.9'));
    assert.ok(!after.demographics.links.some((l) => l.institution.id === r.d.id));
  });
});
