import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Observation, OperationOutcome, Patient } from '@medplum/fhirtypes';
import { landFhirBundle } from '../ingest/index.ts';
import { ingestFor } from './ingest-runtime.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

// The FHIR channel (issue 4): an institution's Bundle posted to /fhir lands verbatim, is standardized in the request
// like an HL7 message or a CSV row, and is answered like a FHIR server — through the real HTTP app and database.
const LAB = 'http://his.example.cn/lab';
const MRN = 'http://his.example.cn/mrn';
const REASON = 'https://healthbrain.cn/fhir/CodeSystem/quarantine-reason';
const MR = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] };

function visit(mrn: string, opts: { lab?: { code: string; name: string; value: number; unit: string }; residentId?: string; birthDate?: string; start?: string } = {}): Bundle {
  const p = `urn:uuid:00000000-0000-4000-8000-${mrn.padStart(12, '0').slice(-12)}`;
  const e = `urn:uuid:00000000-0000-4000-9000-${mrn.padStart(12, '0').slice(-12)}`;
  const identifier = [{ type: MR, system: MRN, value: mrn }, ...(opts.residentId ? [{ system: 'urn:oid:2.16.156.10011.1.3', value: opts.residentId }] : [])];
  const lab = opts.lab ?? { code: 'CR', name: '血肌酐', value: 1.0, unit: 'mg/dL' };
  return {
    resourceType: 'Bundle', type: 'transaction',
    entry: [
      { fullUrl: p, resource: { resourceType: 'Patient', identifier, name: [{ text: '钱七' }], gender: 'male', birthDate: opts.birthDate ?? '1960-05-01' }, request: { method: 'PUT', url: `Patient?identifier=${MRN}|${mrn}` } },
      { fullUrl: e, resource: { resourceType: 'Encounter', identifier: [{ value: `V-${mrn}` }], status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: p }, period: { start: opts.start ?? '2024-03-05T09:00:00+08:00' } }, request: { method: 'POST', url: 'Encounter' } },
      { resource: { resourceType: 'Organization', name: '某乡镇卫生院' }, request: { method: 'POST', url: 'Organization' } },
      {
        fullUrl: `urn:uuid:00000000-0000-4000-a000-${mrn.padStart(12, '0').slice(-12)}`,
        resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: LAB, code: lab.code, display: lab.name }] }, subject: { reference: p }, encounter: { reference: e }, effectiveDateTime: '2024-03-05T09:30:00+08:00', valueQuantity: { value: lab.value, unit: lab.unit } },
        request: { method: 'POST', url: 'Observation' },
      },
    ],
  } as Bundle;
}

describe(`the FHIR channel standardizes institution Bundles on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let inst: Awaited<ReturnType<TestPlatform['addInstitution']>>;
  let admin: string;
  const post = (body: unknown, token = inst.token, headers: Record<string, string> = {}) =>
    p.app.inject({ method: 'POST', url: '/fhir', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', ...headers }, payload: JSON.stringify(body) });
  const adminCall = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    p.app.inject({ method, url, headers: { authorization: `Bearer ${admin}` }, ...(payload ? { payload: payload as Record<string, unknown> } : {}) });
  const read = async <T,>(location: string) => (await p.app.inject({ method: 'GET', url: `/fhir/${location.split('/_history')[0]}`, headers: { authorization: `Bearer ${inst.token}` } })).json() as T;

  before(async () => {
    p = await openTestPlatform();
    inst = await p.addInstitution('湖州某卫生院');
    admin = await p.adminToken();
  });
  after(() => p.close());

  it('stores a local lab code mapped by the institution\'s ConceptMap as LOINC (local coding kept) with the value converted to the canonical unit', async () => {
    const confirm = await adminCall('POST', '/admin/terminology/confirm', { institution: inst.id, localSystem: LAB, localCode: 'GLU-F', targetSystem: 'http://loinc.org', targetCode: '14749-6' });
    assert.equal(confirm.statusCode, 200, confirm.body);
    const res = await post(visit('A001', { lab: { code: 'GLU-F', name: '空腹血糖(院内)', value: 108, unit: 'mg/dL' } }), inst.token, { prefer: 'return=representation' });
    assert.equal(res.statusCode, 200, res.body);
    const out = res.json() as Bundle;
    assert.equal(out.type, 'transaction-response');
    assert.deepEqual(out.entry?.map((e) => e.response?.status), ['201 Created', '201 Created', '200 OK', '201 Created']);
    const obs = await read<Observation>(out.entry![3].response!.location!);
    assert.deepEqual(obs.code.coding?.map((c) => [c.system, c.code]), [['http://loinc.org', '14749-6'], [LAB, 'GLU-F']]);
    assert.deepEqual([obs.valueQuantity?.value, obs.valueQuantity?.code], [5.9948, 'mmol/L']); // 108 mg/dL ÷ 18.0156 (glucose, 180.156 g/mol)
    assert.deepEqual(obs.valueQuantity?.extension?.[0].valueQuantity, { value: 108, unit: 'mg/dL' });
    const patient = await read<Patient>(out.entry![0].response!.location!);
    assert.equal(obs.subject?.reference, `Patient/${patient.id}`);
    const { rows } = await p.deps.db.query<{ id: number }>(`SELECT id FROM landed_unit WHERE institution_id = $1 AND status = 'standardized'`, [inst.id]);
    assert.equal(obs.meta?.source, `urn:healthbrain:landing:${rows[0].id}`, 'lineage to the landed unit, as the other channels');
    assert.deepEqual(out.entry![3].resource?.id, obs.id);
    const empi = await p.deps.db.query<{ person_id: string | null }>('SELECT person_id FROM empi_record WHERE patient_key = $1', [patient.id]);
    assert.ok(empi.rows[0]?.person_id, 'the Patient went through the EMPI seam');
  });

  it('keeps a returning patient\'s unchanged Patient as it is (no new version, not matched again) and versions a changed one', async () => {
    const touched = async (key: string) => (await p.deps.db.query<{ t: string }>('SELECT updated_at::text AS t FROM empi_record WHERE patient_key = $1', [key])).rows[0]?.t;
    const again = await post(visit('A001', { lab: { code: 'GLU-F', name: '空腹血糖(院内)', value: 126, unit: 'mg/dL' } }));
    assert.equal(again.statusCode, 200, again.body);
    const [patient, , , obs] = (again.json() as Bundle).entry!.map((e) => e.response!);
    assert.deepEqual([patient.status, patient.location?.endsWith('/_history/1')], ['200 OK', true]);
    assert.equal(obs.status, '200 OK', 'the same Observation (same source keys) in a new version');
    const key = patient.location!.split('/')[1];
    const matched = await touched(key);
    assert.ok(matched, 'matched by the EMPI on its first arrival');
    await post(visit('A001', { lab: { code: 'GLU-F', name: '空腹血糖(院内)', value: 127, unit: 'mg/dL' } }));
    assert.equal(await touched(key), matched, 'an unchanged Patient is not matched again');
    const moved = await post(visit('A001', { lab: { code: 'GLU-F', name: '空腹血糖(院内)', value: 130, unit: 'mg/dL' }, residentId: '33052319600501001X' }));
    assert.equal(moved.statusCode, 200, moved.body);
    assert.ok((moved.json() as Bundle).entry![0].response!.location!.endsWith('/_history/2'));
    assert.notEqual(await touched(key), matched, 'the changed Patient went through the EMPI again');
  });

  // Issue 17 changed this answer on purpose: 422 before, now 202 (held whole, completes by itself once mapped).
  it('accepts a transaction whose only problem is an unmapped local code with 202 naming the entry and the map it waits for, holds it whole, and stores it once the mapping is confirmed', async () => {
    const bundle = visit('A002', { lab: { code: 'LX-42', name: '某院内特检项', value: 1.2, unit: 'mg/dL' } });
    const res = await post(bundle);
    assert.equal(res.statusCode, 202, res.body);
    assert.match(String(res.headers['content-location']), /\/ingest\/units\/\d+$/);
    const oo = res.json() as OperationOutcome;
    const err = oo.issue.find((i) => i.severity === 'warning')!;
    assert.deepEqual([err.code, err.details?.coding?.[0]], ['code-invalid', { system: REASON, code: 'unmapped-code' }]);
    assert.deepEqual(err.expression, ['Bundle.entry[3].resource.code']);
    assert.equal(err.details?.text, `entry 3 waits for a map of ${LAB}|LX-42 (某院内特检项) to http://loinc.org`);
    assert.equal(oo.issue.filter((i) => i.severity === 'warning').length, 1, 'exactly the entries that wait');
    const q = (await adminCall('GET', `/admin/quarantine?institution=${inst.id}&reason=unmapped-code`)).json();
    assert.equal(q.units.length, 1);
    assert.equal(q.units[0].channel, 'fhir');
    // Nothing of a quarantined unit is stored: not even its Patient.
    const stored = await p.deps.db.query(`SELECT 1 FROM fhir_resource WHERE institution_id = $1 AND content->'identifier' @> '[{"value":"A002"}]'`, [inst.id]);
    assert.equal(stored.rows.length, 0);
    const confirm = await adminCall('POST', '/admin/terminology/confirm', { institution: inst.id, localSystem: LAB, localCode: 'LX-42', targetCode: '14682-9' });
    assert.deepEqual(confirm.json(), { requeued: 1 });
    // Requeued, the unit goes to the worker at once: its 2-minute window is only for Bundles never processed.
    await ingestFor(p.deps).drain(); // the platform's worker: its standardizer and FHIR store writer
    let status = 'landed';
    for (let i = 0; i < 100 && status === 'landed'; i++) {
      status = (await p.deps.db.query<{ status: string }>(`SELECT status FROM landed_unit WHERE id = $1`, [q.units[0].id])).rows[0].status;
      if (status === 'landed') await new Promise((r) => setTimeout(r, 50)); // the background worker may hold it
    }
    assert.equal(status, 'standardized');
    const obs = await p.deps.db.query<{ content: Observation }>(`SELECT content FROM fhir_resource WHERE institution_id = $1 AND resource_type = 'Observation' AND content->'code'->'coding' @> '[{"code":"LX-42"}]'`, [inst.id]);
    assert.deepEqual([obs.rows[0].content.code.coding?.[0].code, obs.rows[0].content.valueQuantity?.value], ['14682-9', 106.08]); // 1.2 mg/dL × 88.402
  });

  it('quarantines a visit before birth with its reason, and keeps a resident ID failing its check digit as unverified (as HL7 and CSV do)', async () => {
    const early = await post(visit('A003', { birthDate: '2000-01-01', start: '1999-06-01T09:00:00+08:00' }));
    assert.equal(early.statusCode, 422);
    const issue = (early.json() as OperationOutcome).issue[0];
    assert.deepEqual([issue.details?.coding?.[0].code, issue.expression], ['implausible-date', ['Bundle.entry[1].resource.period.start']]);
    const badId = await post(visit('A004', { residentId: '330523196005010010' }));
    assert.equal(badId.statusCode, 200, badId.body);
    const patient = await read<Patient>((badId.json() as Bundle).entry![0].response!.location!);
    assert.ok(patient.meta?.tag?.some((t) => t.code === 'resident-id-unverified'));
    assert.ok(patient.identifier?.find((i) => i.value === '330523196005010010')?.extension?.length);
  });

  it('recognises a re-posted Bundle without processing it twice, for a stored one and for a quarantined one', async () => {
    const bundle = visit('A005');
    const first = await post(bundle);
    assert.equal(first.statusCode, 200);
    const again = await post(bundle);
    assert.equal(again.statusCode, 200);
    assert.match(JSON.stringify(again.json()), /duplicate of landed unit/);
    const versions = await p.deps.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resource_history WHERE institution_id = $1 AND content->'identifier' @> '[{"value":"A005"}]'`, [inst.id]);
    assert.equal(versions.rows[0].n, 1);
    const bad = visit('A006', { lab: { code: 'LX-99', name: '另一院内项', value: 1, unit: 'mg/dL' } });
    assert.equal((await post(bad)).statusCode, 202, 'held for a map (issue 17: 422 before)');
    const badAgain = await post(bad);
    assert.equal(badAgain.statusCode, 202);
    assert.match(JSON.stringify(badAgain.json()), /unmapped-code.*duplicate of landed unit/s);
  });

  it('quarantines a batch Bundle with one bad entry as a whole: 422 naming the entry, none of its entries stored', async () => {
    const bundle = visit('A007', { lab: { code: 'GLU-F', name: '空腹血糖(院内)', value: 99, unit: 'mg/dL' } });
    bundle.type = 'batch';
    (bundle.entry![3].resource as Observation).valueQuantity = { value: 99, unit: 'furlong' };
    const res = await post(bundle);
    assert.equal(res.statusCode, 422, res.body);
    const issue = (res.json() as OperationOutcome).issue[0];
    assert.deepEqual([issue.details?.coding?.[0].code, issue.expression], ['unit-unknown', ['Bundle.entry[3].resource.code']]);
    const stored = await p.deps.db.query(`SELECT 1 FROM fhir_resource WHERE institution_id = $1 AND content->'identifier' @> '[{"value":"A007"}]'`, [inst.id]);
    assert.equal(stored.rows.length, 0);
  });

  it('stores concurrent Bundles of several patients each, sharing names, from several institutions: every patient matched, none refused', async () => {
    const others = [inst, await p.addInstitution('湖州某卫生院二'), await p.addInstitution('湖州某卫生院三')];
    const names = ['张伟', '王芳', '李娜', '刘强', '陈静'];
    const many = (k: number, b: number) => {
      const order = k % 2 ? [...names].reverse() : names; // the same names, in opposite orders
      const entry = order.flatMap((name, i) => {
        const v = visit(`M${k}-${b}-${i}`, { birthDate: `1970-0${1 + i}-15` }).entry!;
        (v[0].resource as Patient).name = [{ text: name }];
        return [v[0], v[1]];
      });
      return { resourceType: 'Bundle', type: 'transaction', entry } as Bundle;
    };
    const res = await Promise.all(others.flatMap((o, k) => [0, 1].map((b) => post(many(k, b), o.token))));
    assert.deepEqual(res.map((r) => r.statusCode), [200, 200, 200, 200, 200, 200], res.map((r) => r.body.slice(0, 200)).join('\n'));
    const keys = res.flatMap((r) => (r.json() as Bundle).entry!.filter((e) => e.response?.location?.startsWith('Patient/')).map((e) => e.response!.location!.split('/')[1]));
    assert.equal(keys.length, 30);
    const linked = await p.deps.db.query<{ n: number }>('SELECT count(*)::int AS n FROM empi_record WHERE patient_key = ANY($1::text[]) AND person_id IS NOT NULL', [keys]);
    assert.equal(linked.rows[0].n, 30);
  });

  it('sends a Bundle of a person (a clinician of the institution) straight to the FHIR router, unstandardized and not landed', async () => {
    const clin = await adminCall('POST', '/admin/tokens', { role: 'clinician', institution: inst.id, user: 'dr-qian' });
    assert.equal(clin.statusCode, 200, clin.body);
    const before = await p.deps.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM landed_unit`);
    const res = await post({ resourceType: 'Bundle', type: 'batch', entry: [{ resource: { resourceType: 'Basic', code: { text: '随访提醒' } }, request: { method: 'POST', url: 'Basic' } }] }, clin.json().access_token);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().type, 'batch-response');
    const after = await p.deps.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM landed_unit`);
    assert.equal(after.rows[0].n, before.rows[0].n);
  });

  it('reconciles the feed counts: received = standardized + quarantined + duplicates', async () => {
    const feeds = (await adminCall('GET', '/admin/feeds')).json() as Array<{ institution_id: string; received: number; standardized: number; quarantined: number; duplicates: number }>;
    const f = feeds.find((r) => r.institution_id === inst.id)!;
    // 12 Bundles of 4 entries (2 of them re-posts): A001 ×4, A002 (now stored), A003 (quarantined), A004, A005 ×2, A006 ×2,
    // A007; and 2 Bundles of 10 entries of the concurrent test.
    assert.deepEqual([f.received, f.standardized, f.quarantined, f.duplicates], [68, 48, 12, 8]);
    assert.equal(f.received, f.standardized + f.quarantined + f.duplicates);
  });
});

// The FHIR asynchronous request pattern (https://hl7.org/fhir/R4/async.html) on the same channel: `Prefer: respond-async`
// lands the Bundle and answers 202 + Content-Location at once; the platform's worker standardizes it; the status URL
// answers 202 while it waits, then what the synchronous path would have answered.
describe(`the FHIR channel answers Prefer: respond-async with 202 and a status URL on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let inst: Awaited<ReturnType<TestPlatform['addInstitution']>>;
  let admin: string;
  const ASYNC = { prefer: 'respond-async' };
  const post = (body: unknown, headers: Record<string, string> = ASYNC) =>
    p.app.inject({ method: 'POST', url: '/fhir', headers: { authorization: `Bearer ${inst.token}`, 'content-type': 'application/fhir+json', ...headers }, payload: JSON.stringify(body) });
  const adminCall = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    p.app.inject({ method, url, headers: { authorization: `Bearer ${admin}` }, ...(payload ? { payload: payload as Record<string, unknown> } : {}) });
  const get = (url: string, token: string | null = inst.token, method: 'GET' | 'DELETE' = 'GET') =>
    p.app.inject({ method, url: new URL(url, 'http://localhost').pathname, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const read = async <T,>(location: string) => (await p.app.inject({ method: 'GET', url: `/fhir/${location.split('/_history')[0]}`, headers: { authorization: `Bearer ${inst.token}` } })).json() as T;
  /**
   * Polls the status URL until it no longer answers 202 for a unit waiting for the worker (a unit held for a map
   * answers 202 `held` for good) — a bound, not a timing assertion (the worker is woken at once).
   */
  const settled = async (url: string) => {
    let res = await get(url);
    for (let i = 0; i < 400 && res.statusCode === 202 && !String(res.headers['x-progress']).startsWith('held'); i++) {
      await new Promise((r) => setTimeout(r, 25));
      res = await get(url);
    }
    return res;
  };
  const unitOf = (url: string) => Number(/\/ingest\/units\/(\d+)$/.exec(url)?.[1]);
  const statusOf = async (id: number) => (await p.deps.db.query<{ status: string; meta: Record<string, unknown> }>('SELECT status, meta FROM landed_unit WHERE id = $1', [id])).rows[0];

  before(async () => {
    p = await openTestPlatform();
    inst = await p.addInstitution('湖州某社区卫生服务中心');
    admin = await p.adminToken();
    const confirm = await adminCall('POST', '/admin/terminology/confirm', { institution: inst.id, localSystem: LAB, localCode: 'GLU-F', targetSystem: 'http://loinc.org', targetCode: '14749-6' });
    assert.equal(confirm.statusCode, 200, confirm.body);
  });
  after(() => p.close());

  it('acknowledges with 202 + Content-Location without standardizing in the request; the status URL answers 202 with X-Progress, then 200 with the transaction-response', async () => {
    const worker = ingestFor(p.deps).worker;
    await worker.stop(); // holds the worker so that the unit is seen waiting
    const res = await post(visit('B001', { lab: { code: 'GLU-F', name: '空腹血糖(院内)', value: 108, unit: 'mg/dL' } }));
    assert.equal(res.statusCode, 202, res.body);
    const url = res.headers['content-location'] as string;
    assert.match(url, /^http:\/\/[^/]+\/ingest\/units\/\d+$/);
    const id = unitOf(url);
    assert.deepEqual([(await statusOf(id)).status, (await statusOf(id)).meta.respond], ['landed', 'async']);
    const stored = await p.deps.db.query(`SELECT 1 FROM fhir_resource WHERE institution_id = $1`, [inst.id]);
    assert.equal(stored.rows.length, 0, 'nothing standardized in the request');
    const waiting = await get(url);
    assert.equal(waiting.statusCode, 202, waiting.body);
    assert.match(String(waiting.headers['x-progress']), /waiting for standardization: 0 units ahead/);
    assert.equal(waiting.headers['retry-after'], '1');
    worker.start();
    const done = await settled(url);
    assert.equal(done.statusCode, 200, done.body);
    const out = done.json() as Bundle;
    assert.equal(out.type, 'transaction-response');
    assert.deepEqual(out.entry?.map((e) => e.response?.status), ['201 Created', '201 Created', '200 OK', '201 Created']);
    assert.equal(out.entry![2].response?.location, undefined, 'the Organization entry is not stored');
    const obs = await read<Observation>(out.entry![3].response!.location!);
    assert.deepEqual(obs.code.coding?.map((c) => [c.system, c.code]), [['http://loinc.org', '14749-6'], [LAB, 'GLU-F']]);
    assert.deepEqual([obs.valueQuantity?.value, obs.valueQuantity?.code], [5.9948, 'mmol/L']);
    assert.equal(obs.meta?.source, `urn:healthbrain:landing:${id}`);
    assert.deepEqual([out.entry![3].response?.location, out.entry![3].response?.etag, out.entry![3].response?.lastModified], [`Observation/${obs.id}/_history/1`, 'W/"1"', obs.meta?.lastUpdated]);
    const patient = await read<Patient>(out.entry![0].response!.location!);
    assert.equal(obs.subject?.reference, `Patient/${patient.id}`);
    const empi = await p.deps.db.query<{ person_id: string | null }>('SELECT person_id FROM empi_record WHERE patient_key = $1', [patient.id]);
    assert.ok(empi.rows[0]?.person_id, 'the Patient went through the EMPI seam in the worker');
  });

  it('answers a returning patient\'s unchanged Patient with its current version, as the synchronous path does', async () => {
    const res = await post(visit('B001', { lab: { code: 'GLU-F', name: '空腹血糖(院内)', value: 126, unit: 'mg/dL' } }));
    assert.equal(res.statusCode, 202, res.body);
    const out = (await settled(res.headers['content-location'] as string)).json() as Bundle;
    const [patient, , , obs] = out.entry!.map((e) => e.response!);
    assert.deepEqual([patient.status, patient.location?.endsWith('/_history/1')], ['200 OK', true]);
    assert.deepEqual([obs.status, obs.location?.endsWith('/_history/2')], ['200 OK', true], 'the same Observation in a new version');
  });

  // Issue 17 changed the held answer on purpose: 422 before, now 202 `held` naming what it waits for.
  it('holds a Bundle with an unmapped code: 202 held with what it waits for at the status URL, then 200 once the mapping is confirmed', async () => {
    const res = await post(visit('B002', { lab: { code: 'LX-43', name: '某院内特检项', value: 1.2, unit: 'mg/dL' } }));
    assert.equal(res.statusCode, 202, res.body);
    const url = res.headers['content-location'] as string;
    const bad = await settled(url);
    assert.equal(bad.statusCode, 202, bad.body);
    assert.match(String(bad.headers['x-progress']), /^held: 1 reason/);
    assert.equal(bad.headers['retry-after'], '60');
    const err = (bad.json() as OperationOutcome).issue.find((i) => i.severity === 'warning')!;
    assert.deepEqual([err.code, err.details?.coding?.[0], err.expression], ['code-invalid', { system: REASON, code: 'unmapped-code' }, ['Bundle.entry[3].resource.code']]);
    const nothing = await p.deps.db.query(`SELECT 1 FROM fhir_resource WHERE institution_id = $1 AND content->'identifier' @> '[{"value":"B002"}]'`, [inst.id]);
    assert.equal(nothing.rows.length, 0);
    const confirm = await adminCall('POST', '/admin/terminology/confirm', { institution: inst.id, localSystem: LAB, localCode: 'LX-43', targetCode: '14682-9' });
    assert.deepEqual(confirm.json(), { requeued: 1 });
    const good = await settled(url);
    assert.equal(good.statusCode, 200, good.body);
    const obs = await read<Observation>((good.json() as Bundle).entry![3].response!.location!);
    assert.deepEqual([obs.code.coding?.[0].code, obs.valueQuantity?.value], ['14682-9', 106.08]);
  });

  it('answers a re-post with the status URL of the unit landed before, processed once — also for a Bundle first posted synchronously', async () => {
    const bundle = visit('B003');
    const first = await post(bundle);
    const url = first.headers['content-location'] as string;
    const answer = (await settled(url)).json() as Bundle;
    const again = await post(bundle);
    assert.equal(again.statusCode, 202);
    assert.equal(again.headers['content-location'], url);
    assert.match(JSON.stringify(again.json()), /duplicate of landed unit \d+, already standardized/);
    const now = await get(url);
    assert.equal(now.statusCode, 200);
    assert.deepEqual(now.json(), answer);
    const versions = await p.deps.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resource_history WHERE institution_id = $1 AND content->'identifier' @> '[{"value":"B003"}]'`, [inst.id]);
    assert.equal(versions.rows[0].n, 1);
    // Posted synchronously first: the status URL of the re-post answers what the synchronous answer said.
    const sync = visit('B004');
    const syncRes = await post(sync, {});
    assert.equal(syncRes.statusCode, 200, syncRes.body);
    const asyncRes = await post(sync);
    assert.equal(asyncRes.statusCode, 202);
    const status = await get(asyncRes.headers['content-location'] as string);
    assert.equal(status.statusCode, 200);
    const locations = (b: Bundle) => b.entry!.map((e) => [e.response?.status, e.response?.location, e.response?.etag]);
    assert.deepEqual(locations(status.json()), locations(syncRes.json()));
  });

  it('leaves a Bundle landed without respond-async to its request (the worker does not race it), takes a respond-async one at once, and one re-posted async', async () => {
    const ingest = ingestFor(p.deps);
    await ingest.worker.stop();
    try {
      const syncLanded = await landFhirBundle(p.deps.db, inst.id, undefined, visit('B005'));
      assert.equal(await ingest.drain(), 0, 'a synchronous request is processing it (or crashed: the worker takes it after two minutes)');
      await landFhirBundle(p.deps.db, inst.id, undefined, visit('B006'), { respondAsync: true });
      assert.equal(await ingest.drain(), 1);
      // The sender re-posts asynchronously a Bundle its synchronous request left landed: the worker takes it now.
      const res = await post(visit('B005'));
      assert.equal(res.statusCode, 202, res.body);
      assert.equal(unitOf(res.headers['content-location'] as string), syncLanded.unit.id);
      assert.equal(await ingest.drain(), 1);
      assert.equal((await statusOf(syncLanded.unit.id)).status, 'standardized');
    } finally {
      ingest.worker.start();
    }
  });

  it('shows the status to the sending institution and operators only; DELETE (cancel) is refused', async () => {
    const res = await post(visit('B007'));
    const url = res.headers['content-location'] as string;
    assert.equal((await settled(url)).statusCode, 200);
    const other = await p.addInstitution('湖州另一卫生院');
    assert.equal((await get(url, other.token)).statusCode, 404, 'another institution does not learn that the unit exists');
    const clin = await adminCall('POST', '/admin/tokens', { role: 'clinician', institution: inst.id, user: 'dr-zhou' });
    assert.equal((await get(url, clin.json().access_token)).statusCode, 403, 'a person of the institution is not its system');
    assert.equal((await get(url, null)).statusCode, 401);
    assert.equal((await get(url, admin)).statusCode, 200);
    const op = await adminCall('POST', '/admin/tokens', { role: 'operator', user: 'op-wu' });
    assert.equal((await get(url, op.json().access_token)).statusCode, 200);
    assert.equal((await get('/ingest/units/999999999', admin)).statusCode, 404);
    const del = await get(url, inst.token, 'DELETE');
    assert.equal(del.statusCode, 405, del.body);
    assert.equal(del.headers.allow, 'GET');
    assert.equal((await get(url)).statusCode, 200, 'still there');
  });

  it('reconciles the feed counts: received = standardized + quarantined + duplicates, nothing pending', async () => {
    const daily = (await adminCall('GET', `/admin/feeds/daily?institution=${inst.id}`)).json() as Array<{ received: number; standardized: number; quarantined: number; duplicates: number; pending: number }>;
    const sum = (k: keyof (typeof daily)[0]) => daily.reduce((a, d) => a + d[k], 0);
    // Bundles of 4 entries: B001 ×2, B002 (released, stored), B003 ×2, B004 ×2, B005 ×2, B006, B007.
    assert.deepEqual([sum('received'), sum('standardized'), sum('quarantined'), sum('duplicates'), sum('pending')], [44, 32, 0, 12, 0]);
  });
});
