import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { harness, patient, systemCtx, type Harness } from './test-helpers.ts';

describe('FHIR create, read, vread, update, delete and history', () => {
  let h: Harness;
  let now = Date.parse('2024-03-01T08:00:00Z');
  before(async () => (h = await harness(() => new Date((now += 1000)))));
  after(() => h.close());

  it('creates a Patient with a server-assigned id, version 1, ETag and Location, and reads it back', async () => {
    const r = await h.call('POST', 'Patient', { body: patient('110101198005170011') });
    assert.equal(r.status, 201);
    assert.match(r.resource.id, /^[0-9a-f-]{36}$/);
    assert.equal(r.resource.meta.versionId, '1');
    assert.equal(r.headers.ETag, 'W/"1"');
    assert.equal(r.headers.Location, `https://hb.example/fhir/Patient/${r.resource.id}/_history/1`);
    assert.ok(r.headers['Last-Modified']);
    const read = await h.call('GET', `Patient/${r.resource.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.resource, r.resource);
  });

  it('honours Prefer: return=minimal and return=OperationOutcome on create', async () => {
    const minimal = await h.call('POST', 'Patient', { body: patient('PREFER-1'), headers: { prefer: 'return=minimal' } });
    assert.equal(minimal.status, 201);
    assert.equal(minimal.res.resource, undefined);
    assert.match(minimal.headers.Location, /\/Patient\/[0-9a-f-]+\/_history\/1$/);
    const oo = await h.call('POST', 'Patient', { body: patient('PREFER-2'), headers: { prefer: 'return=OperationOutcome' } });
    assert.equal(oo.res.resource?.resourceType, 'OperationOutcome');
  });

  it('ignores a client-supplied id on create and assigns its own', async () => {
    const r = await h.call('POST', 'Patient', { body: { ...patient('X1'), id: 'chosen-by-client' } });
    assert.equal(r.status, 201);
    assert.notEqual(r.resource.id, 'chosen-by-client');
  });

  it('updates with a new version, keeps the old one readable by vread, and lists both in history newest first', async () => {
    const c = await h.call('POST', 'Patient', { body: patient('P-UPD') });
    const id = c.resource.id;
    const u = await h.call('PUT', `Patient/${id}`, { body: { ...patient('P-UPD'), id, gender: 'female' } });
    assert.equal(u.status, 200);
    assert.equal(u.resource.meta.versionId, '2');
    assert.equal((await h.call('GET', `Patient/${id}/_history/1`)).resource.gender, 'male');
    assert.equal((await h.call('GET', `Patient/${id}/_history/2`)).resource.gender, 'female');
    const hist = await h.call('GET', `Patient/${id}/_history`);
    assert.equal(hist.resource.type, 'history');
    assert.deepEqual(hist.resource.entry.map((e: any) => e.resource.meta.versionId), ['2', '1']);
  });

  it('answers 412 when If-Match names a version that is not the current one, and succeeds when it is', async () => {
    const c = await h.call('POST', 'Patient', { body: patient('P-LOCK') });
    const id = c.resource.id;
    const stale = await h.call('PUT', `Patient/${id}`, { body: { ...patient('P-LOCK'), id }, headers: { 'if-match': 'W/"7"' } });
    assert.equal(stale.status, 412);
    assert.equal(stale.resource.resourceType, 'OperationOutcome');
    const fresh = await h.call('PUT', `Patient/${id}`, { body: { ...patient('P-LOCK'), id }, headers: { 'if-match': 'W/"1"' } });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.resource.meta.versionId, '2');
  });

  it('creates on update when the id is new (update as create) with status 201', async () => {
    const r = await h.call('PUT', 'Patient/client-chosen-1', { body: { ...patient('P-UAC'), id: 'client-chosen-1' } });
    assert.equal(r.status, 201);
    assert.equal(r.resource.id, 'client-chosen-1');
    assert.equal(r.resource.meta.versionId, '1');
  });

  it('answers concurrent update-as-create of one id with one 201 and no server error', async () => {
    const body = { ...patient('P-RACE'), id: 'race-1' };
    const results = await Promise.all(Array.from({ length: 5 }, () => h.call('PUT', 'Patient/race-1', { body })));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, String(statuses));
    assert.ok(statuses.every((s) => s === 200 || s === 201 || s === 409), String(statuses));
  });

  it('rejects an update whose body id differs from the URL id with 400', async () => {
    const r = await h.call('PUT', 'Patient/abc', { body: { ...patient('P-ID'), id: 'other' } });
    assert.equal(r.status, 400);
  });

  it('soft-deletes: read answers 410 Gone, history keeps the deleted version and the earlier ones', async () => {
    const c = await h.call('POST', 'Patient', { body: patient('P-DEL') });
    const id = c.resource.id;
    const d = await h.call('DELETE', `Patient/${id}`);
    assert.equal(d.status, 200);
    assert.equal((await h.call('GET', `Patient/${id}`)).status, 410);
    assert.equal((await h.call('GET', `Patient/${id}/_history/1`)).status, 200);
    assert.equal((await h.call('GET', `Patient/${id}/_history/2`)).status, 410);
    const hist = await h.call('GET', `Patient/${id}/_history`);
    assert.deepEqual(hist.resource.entry.map((e: any) => e.request.method), ['DELETE', 'POST']);
    assert.equal(hist.resource.entry[0].resource, undefined);
    const search = await h.call('GET', 'Patient', { query: [['identifier', 'P-DEL']] });
    assert.equal(search.resource.entry.length, 0);
  });

  it('pages type history with next links', async () => {
    for (let i = 0; i < 5; i++) await h.call('POST', 'Location', { body: { resourceType: 'Location', name: `L${i}` } });
    const first = await h.call('GET', 'Location/_history', { query: '_count=3' });
    assert.equal(first.resource.entry.length, 3);
    const next = first.resource.link.find((l: any) => l.relation === 'next');
    const second = await h.call('GET', 'Location/_history', { query: new URL(next.url).search.slice(1) });
    assert.equal(second.resource.entry.length, 2);
    const names = [...first.resource.entry, ...second.resource.entry].map((e: any) => e.resource.name);
    assert.deepEqual(names, ['L4', 'L3', 'L2', 'L1', 'L0']);
  });

  it('answers 404 for an unknown id and for an unknown resource type', async () => {
    assert.equal((await h.call('GET', 'Patient/does-not-exist')).status, 404);
    assert.equal((await h.call('GET', 'Patient/does-not-exist/_history/1')).status, 404);
    assert.equal((await h.call('GET', 'Pateint/x')).status, 404);
  });

  it('lists every version of a type in type history and in system history', async () => {
    const c = await h.call('POST', 'Organization', { body: { resourceType: 'Organization', name: '安吉县人民医院' } });
    const typeHist = await h.call('GET', 'Organization/_history');
    assert.ok(typeHist.resource.entry.some((e: any) => e.resource?.id === c.resource.id));
    assert.ok(typeHist.resource.entry.every((e: any) => e.fullUrl.includes('/Organization/')));
    const sys = await h.call('GET', '_history', { query: [['_count', '1000']] });
    assert.ok(sys.resource.entry.some((e: any) => e.resource?.id === c.resource.id));
    assert.ok(sys.resource.entry.some((e: any) => e.fullUrl.includes('/Patient/')));
  });

  it('stores the submitting institution and the Patient key as columns of each clinical row', async () => {
    const p = await h.call('POST', 'Patient', { body: patient('P-KEY'), ctx: systemCtx(undefined, 'hospital-7') });
    const o = await h.call('POST', 'Observation', {
      body: { resourceType: 'Observation', status: 'final', code: { text: 'BP' }, subject: { reference: `Patient/${p.resource.id}` } },
      ctx: systemCtx(undefined, 'hospital-7'),
    });
    const rows = await h.db.query<{ resource_type: string; patient_key: string; institution_id: string }>(
      'SELECT resource_type, patient_key, institution_id FROM fhir_resource WHERE id = ANY($1::text[]) ORDER BY resource_type',
      [[p.resource.id, o.resource.id]],
    );
    assert.deepEqual(rows.rows, [
      { resource_type: 'Observation', patient_key: p.resource.id, institution_id: 'hospital-7' },
      { resource_type: 'Patient', patient_key: p.resource.id, institution_id: 'hospital-7' },
    ]);
    const org = await h.call('POST', 'Organization', { body: { resourceType: 'Organization', name: 'X' } });
    const shared = await h.db.query('SELECT 1 FROM fhir_shared_resource WHERE id = $1', [org.resource.id]);
    assert.equal(shared.rows.length, 1, 'Organization lives in the shared (reference) table');
  });

  it('moves a clinical row to its new patient_key when an update changes its subject', async () => {
    const a = await h.call('POST', 'Patient', { body: patient('P-MOVE-A') });
    const b = await h.call('POST', 'Patient', { body: patient('P-MOVE-B') });
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${a.resource.id}` } };
    const o = await h.call('POST', 'Observation', { body: obs });
    await h.call('PUT', `Observation/${o.resource.id}`, { body: { ...obs, id: o.resource.id, subject: { reference: `Patient/${b.resource.id}` } } });
    const rows = await h.db.query<{ patient_key: string }>('SELECT patient_key FROM fhir_resource WHERE id = $1', [o.resource.id]);
    assert.deepEqual(rows.rows.map((r) => r.patient_key), [b.resource.id]);
  });
});

describe('FHIR conditional create and update', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it('creates once with If-None-Exist and then returns the existing resource with 200', async () => {
    const body = patient('COND-1');
    const first = await h.call('POST', 'Patient', { body, headers: { 'if-none-exist': 'identifier=urn:oid:2.16.156.10011.1.1|COND-1' } });
    const second = await h.call('POST', 'Patient', { body, headers: { 'if-none-exist': 'Patient?identifier=urn:oid:2.16.156.10011.1.1|COND-1' } });
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.equal(second.resource.id, first.resource.id);
    const all = await h.call('GET', 'Patient', { query: 'identifier=COND-1' });
    assert.equal(all.resource.entry.length, 1);
  });

  it('stores one resource when several senders post the same conditional create at the same time', async () => {
    const body = { resourceType: 'Organization', identifier: [{ system: 'urn:uscc', value: 'RACE-1' }], name: 'Race' };
    const results = await Promise.all(Array.from({ length: 6 }, () => h.call('POST', 'Organization', { body, headers: { 'if-none-exist': 'identifier=urn:uscc|RACE-1' } })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 201]);
    assert.equal(new Set(results.map((r) => r.resource.id)).size, 1);
  });

  it('answers 412 to If-None-Exist when several resources match', async () => {
    await h.call('POST', 'Patient', { body: patient('DUP') });
    await h.call('POST', 'Patient', { body: patient('DUP') });
    const r = await h.call('POST', 'Patient', { body: patient('DUP'), headers: { 'if-none-exist': 'identifier=DUP' } });
    assert.equal(r.status, 412);
  });

  it('conditionally updates: creates when nothing matches, updates the single match afterwards', async () => {
    const q = 'identifier=urn:oid:2.16.156.10011.1.1|CU-1';
    const a = await h.call('PUT', 'Patient', { query: q, body: patient('CU-1') });
    assert.equal(a.status, 201);
    const b = await h.call('PUT', 'Patient', { query: q, body: patient('CU-1', { gender: 'female' }) });
    assert.equal(b.status, 200);
    assert.equal(b.resource.id, a.resource.id);
    assert.equal(b.resource.meta.versionId, '2');
  });

  it('conditionally deletes the single match', async () => {
    const a = await h.call('POST', 'Patient', { body: patient('CD-1') });
    assert.equal((await h.call('DELETE', 'Patient', { query: 'identifier=CD-1' })).status, 200);
    assert.equal((await h.call('GET', `Patient/${a.resource.id}`)).status, 410);
  });
});
