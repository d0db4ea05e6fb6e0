import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { matchIncoming } from '../empi/index.ts';
import { patientInput } from '../empi/testing.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

describe('EMPI operator API and FHIR operations', () => {
  let p: TestPlatform;
  let auth: { authorization: string };
  const keys: Record<string, string> = {};
  before(async () => {
    p = await openTestPlatform();
    auth = { authorization: `Bearer ${await p.adminToken()}` };
    const db = p.deps.db;
    const base = { name: '刘德明', rid: '330523196501010012', birthDate: '1965-01-01', gender: 'male' as const, phone: '13911112222', village: '330523101001' };
    keys.a = (await matchIncoming(db, patientInput({ ...base, mrn: 'A-1' }, 'HOSP-A'))).patientKey;
    keys.b = (await matchIncoming(db, patientInput({ ...base, mrn: 'B-1', name: '劉德明' }, 'HOSP-B'))).patientKey;
    // Same name and birth date, no ID, another phone and village: a grey-zone candidate for review.
    keys.c = (await matchIncoming(db, patientInput({ name: '刘德明', birthDate: '1965-01-01', gender: 'male', mrn: 'C-1', village: '330523101009' }, 'HOSP-C'))).patientKey;
  });
  after(() => p.close());

  it('evaluates the links against an uploaded truth file and prints precision, recall and F1', async () => {
    const mrnsCsv = 'inst,mrn,person,errors\nHOSP-A,A-1,P1,\nHOSP-B,B-1,P1,traditional\nHOSP-C,C-1,P1,idMissing\n';
    const res = await p.app.inject({ method: 'POST', url: '/admin/empi/eval', headers: auth, payload: { mrnsCsv } });
    assert.equal(res.statusCode, 200, res.body);
    const e = res.json();
    assert.equal(e.precision, 1);
    assert.equal(e.truePairs, 3);
    assert.ok(e.recall > 0 && e.recall <= 1);
    const bad = await p.app.inject({ method: 'POST', url: '/admin/empi/eval', headers: auth, payload: {} });
    assert.equal(bad.statusCode, 400);
  });

  it('lists the review queue, shows an item side by side and records a decision', async () => {
    const list = await p.app.inject({ method: 'GET', url: '/admin/empi/reviews', headers: auth });
    assert.equal(list.statusCode, 200, list.body);
    const { total, items } = list.json();
    assert.ok(total >= 1, list.body);
    const one = await p.app.inject({ method: 'GET', url: `/admin/empi/reviews/${items[0].reviewId}`, headers: auth });
    assert.equal(one.statusCode, 200);
    assert.ok(one.json().a.record.patientKey && one.json().b.record.patientKey);
    const d = await p.app.inject({ method: 'POST', url: `/admin/empi/reviews/${items[0].reviewId}`, headers: auth, payload: { decision: 'link' } });
    assert.equal(d.statusCode, 200, d.body);
    assert.equal(d.json().status, 'linked');
    const again = await p.app.inject({ method: 'POST', url: `/admin/empi/reviews/${items[0].reviewId}`, headers: auth, payload: { decision: 'not-link' } });
    assert.equal(again.statusCode, 409);
    const missing = await p.app.inject({ method: 'GET', url: '/admin/empi/reviews/999999', headers: auth });
    assert.equal(missing.statusCode, 404);
  });

  it('refuses the operator API without a token', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/admin/empi/reviews' });
    assert.equal(res.statusCode, 401);
  });

  it('answers Patient/$ihe-pix with the other identifiers of the person, 404 for an unknown one or an unknown domain', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/fhir/Patient/$ihe-pix?sourceIdentifier=' + encodeURIComponent('urn:HOSP-A:mrn|A-1'), headers: auth });
    assert.equal(res.statusCode, 200, res.body);
    const params = res.json();
    assert.equal(params.resourceType, 'Parameters');
    const ids = params.parameter.filter((x: { name: string }) => x.name === 'targetIdentifier').map((x: { valueIdentifier: { system: string; value: string } }) => `${x.valueIdentifier.system}|${x.valueIdentifier.value}`);
    assert.ok(ids.includes('urn:HOSP-B:mrn|B-1'), ids.join(' '));
    assert.ok(!ids.includes('urn:HOSP-A:mrn|A-1'));
    const filtered = await p.app.inject({ method: 'GET', url: '/fhir/Patient/$ihe-pix?sourceIdentifier=' + encodeURIComponent('urn:HOSP-A:mrn|A-1') + '&targetSystem=urn:HOSP-B:mrn', headers: auth });
    assert.deepEqual(filtered.json().parameter.filter((x: { name: string }) => x.name === 'targetIdentifier').length, 1);
    const unknown = await p.app.inject({ method: 'GET', url: '/fhir/Patient/$ihe-pix?sourceIdentifier=' + encodeURIComponent('urn:HOSP-A:mrn|A-404'), headers: auth });
    assert.equal(unknown.statusCode, 404);
    const domain = await p.app.inject({ method: 'GET', url: '/fhir/Patient/$ihe-pix?sourceIdentifier=' + encodeURIComponent('urn:nowhere|0'), headers: auth });
    assert.equal(domain.statusCode, 404);
    assert.equal(domain.json().issue[0].diagnostics, 'sourceIdentifier Assigning Authority not found');
  });

  it('answers Patient/$match with scored candidates carrying a match grade', async () => {
    const payload = {
      resourceType: 'Parameters',
      parameter: [{ name: 'resource', resource: patientInput({ name: '刘德明', rid: '330523196501010012', birthDate: '1965-01-01', gender: 'male' }).patient }],
    };
    const res = await p.app.inject({ method: 'POST', url: '/fhir/Patient/$match', headers: { ...auth, 'content-type': 'application/fhir+json' }, payload });
    assert.equal(res.statusCode, 200, res.body);
    const b = res.json();
    assert.equal(b.resourceType, 'Bundle');
    assert.ok(b.entry.length >= 1);
    assert.equal(b.entry[0].search.extension[0].valueCode, 'certain');
    assert.ok(b.entry[0].search.score > 0.99);
  });
});
