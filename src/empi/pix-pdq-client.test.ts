import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Bundle, OperationOutcome, Parameters, Patient } from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import { openTestPlatform, type TestPlatform } from '../api/testing.ts';
import { mrnSystem } from '../standardize/index.ts';
import { HEALTH_CARD_SYSTEM, PERSON_ID_SYSTEM, RESIDENT_ID_SYSTEM } from './features.ts';

// fhir-kit-client rejects with { response: { status, data } } on answers other than 2xx.
async function failure(p: Promise<unknown>): Promise<{ status: number; data: OperationOutcome }> {
  try {
    await p;
  } catch (err) {
    return (err as { response: { status: number; data: OperationOutcome } }).response;
  }
  assert.fail('expected the request to fail');
}

const MR = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] };
const RID = '330523198204170023'; // valid GB 11643 check character

/** A registration system's Patient: its own record number, the resident ID when known, demographics. */
function patient(mrnSystem: string, mrn: string, name: string, extra: Partial<Patient> & { rid?: string } = {}): Patient {
  const { rid, ...rest } = extra;
  return {
    resourceType: 'Patient',
    identifier: [{ type: MR, system: mrnSystem, value: mrn }, ...(rid ? [{ system: RESIDENT_ID_SYSTEM, value: rid }] : [])],
    name: [{ text: name }],
    gender: 'female',
    birthDate: '1982-04-17',
    telecom: [{ system: 'phone', value: '13857201234' }],
    ...rest,
  };
}

const targetIdentifiers = (p: Parameters) => (p.parameter ?? []).filter((x) => x.name === 'targetIdentifier').map((x) => `${x.valueIdentifier!.system}|${x.valueIdentifier!.value}`);
const targetIds = (p: Parameters) => (p.parameter ?? []).filter((x) => x.name === 'targetId').map((x) => x.valueReference!.reference!);
/** Sends a Patient as the institution's system does — a transaction Bundle to the FHIR base, a conditional update on
 * its record number — which lands, is standardized and matched in the request; returns the stored Patient's id. */
async function send(client: Client, p: Patient): Promise<string> {
  const mrn = p.identifier![0];
  const res = (await client.transaction({
    body: { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:6f1c1d52-0b0e-4c41-9a55-000000000001', resource: p, request: { method: 'PUT', url: `Patient?identifier=${mrn.system}|${mrn.value}` } }] },
  })) as unknown as Bundle;
  return res.entry![0].response!.location!.split('/')[1];
}

const ids = (b: Bundle) => (b.entry ?? []).map((e) => e.resource!.id!).sort();

describe(`IHE PIXm and PDQm through a real listening server, driven by fhir-kit-client (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let p: TestPlatform;
  let base: string;
  let hospital: Client;
  let clinic: Client;
  let operator: Client;
  // The platform keeps each institution's record numbers under its own identifier system (standardization): those are
  // the Patient Identity Domains PIXm answers in, whatever system the sending HIS used.
  let A: string;
  let B: string;
  const keys: Record<string, string> = {};
  before(async () => {
    p = await openTestPlatform();
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}/fhir`;
    const h = await p.addInstitution('安吉县人民医院');
    const c = await p.addInstitution('递铺街道社区卫生服务中心');
    [A, B] = [mrnSystem(h.id), mrnSystem(c.id)];
    hospital = new Client({ baseUrl: base, bearerToken: h.token });
    clinic = new Client({ baseUrl: base, bearerToken: c.token });
    // The whole cross-reference is the EMPI operator's (issue 10: an institution system is answered in its own domain).
    const minted = await p.app.inject({ method: 'POST', url: '/admin/tokens', headers: { authorization: `Bearer ${await p.adminToken()}` }, payload: { role: 'operator', user: 'op-1' } });
    operator = new Client({ baseUrl: base, bearerToken: minted.json().access_token });
    // One woman registered at the county hospital with her resident ID and at a community centre in traditional
    // characters without it; a namesake at the clinic, born another year; each sent by the institution's own system.
    const [hisA, hisB] = ['urn:oid:2.16.156.10011.1.330523A001.mrn', 'urn:oid:2.16.156.10011.1.330523B007.mrn'];
    keys.a = await send(hospital, patient(hisA, 'ZY0042', '沈丽华', { rid: RID }));
    keys.b = await send(clinic, patient(hisB, 'MZ7781', '沈麗華'));
    keys.c = await send(clinic, patient(hisB, 'MZ9003', '沈丽华', { birthDate: '1990-11-02', telecom: [{ system: 'phone', value: '13957209999' }] }));
  });
  after(() => p.close());

  it('resolves the hospital’s record number to the clinic’s, the resident ID, the health card and both Patients for the EMPI operator ($ihe-pix, ITI-83)', async () => {
    const res = (await operator.operation({ name: '$ihe-pix', resourceType: 'Patient', method: 'GET', input: { sourceIdentifier: `${A}|ZY0042` } })) as unknown as Parameters;
    assert.equal(res.resourceType, 'Parameters');
    const found = targetIdentifiers(res);
    assert.ok(found.includes(`${B}|MZ7781`), found.join(' '));
    assert.ok(found.includes(`${RESIDENT_ID_SYSTEM}|${RID}`), found.join(' '));
    assert.ok(found.some((i) => i.startsWith(`${HEALTH_CARD_SYSTEM}|HC330523`)), found.join(' '));
    assert.ok(found.some((i) => i.startsWith(`${PERSON_ID_SYSTEM}|P`)), found.join(' '));
    assert.ok(!found.includes(`${A}|ZY0042`), 'the source identifier is not echoed');
    assert.ok(!found.includes(`${B}|MZ9003`), 'the namesake is another person');
    assert.deepEqual(targetIds(res).sort(), [`Patient/${keys.a}`, `Patient/${keys.b}`].sort());
    // A targetId is a Patient the client can read.
    const other = (await clinic.read({ resourceType: 'Patient', id: keys.b })) as unknown as Patient;
    assert.equal(other.identifier?.[0].value, 'MZ7781');
  });

  it('restricts the answer to the targetSystem domains, and starts from a resident ID as well', async () => {
    const res = (await operator.operation({ name: '$ihe-pix', resourceType: 'Patient', method: 'GET', input: { sourceIdentifier: `${RESIDENT_ID_SYSTEM}|${RID}`, targetSystem: A } })) as unknown as Parameters;
    assert.deepEqual(targetIdentifiers(res), [`${A}|ZY0042`]);
    assert.deepEqual(targetIds(res), [`Patient/${keys.a}`]);
  });

  it('answers an institution system in its own domain only: the golden person id, its own record numbers and Patients', async () => {
    const own = (await hospital.operation({ name: '$ihe-pix', resourceType: 'Patient', method: 'GET', input: { sourceIdentifier: `${A}|ZY0042` } })) as unknown as Parameters;
    const found = targetIdentifiers(own);
    assert.ok(found.some((i) => i.startsWith(`${PERSON_ID_SYSTEM}|P`)), found.join(' '));
    assert.ok(!found.some((i) => i.startsWith(`${B}|`) || i.startsWith(`${RESIDENT_ID_SYSTEM}|`) || i.startsWith(`${HEALTH_CARD_SYSTEM}|`)), found.join(' '));
    assert.deepEqual(targetIds(own), [`Patient/${keys.a}`]);
    const byRid = (await clinic.operation({ name: '$ihe-pix', resourceType: 'Patient', method: 'GET', input: { sourceIdentifier: `${RESIDENT_ID_SYSTEM}|${RID}`, targetSystem: B } })) as unknown as Parameters;
    assert.deepEqual(targetIdentifiers(byRid), [`${B}|MZ7781`]);
    assert.deepEqual(targetIds(byRid), [`Patient/${keys.b}`]);
    const theirs = await failure(clinic.operation({ name: '$ihe-pix', resourceType: 'Patient', method: 'GET', input: { sourceIdentifier: `${RESIDENT_ID_SYSTEM}|${RID}`, targetSystem: A } }));
    assert.equal(theirs.status, 403);
    assert.equal(theirs.data.issue[0].details?.coding?.[0].code, 'target-domain-not-permitted');
  });

  it('answers the failure cases of ITI-83: 404 unknown identifier, 404 + code-invalid unknown source domain, 403 unknown targetSystem', async () => {
    const unknownId = await failure(hospital.operation({ name: '$ihe-pix', resourceType: 'Patient', method: 'GET', input: { sourceIdentifier: `${A}|ZY9999` } }));
    assert.equal(unknownId.status, 404);
    assert.equal(unknownId.data.resourceType, 'OperationOutcome');
    assert.equal(unknownId.data.issue[0].code, 'not-found');
    const unknownDomain = await failure(hospital.operation({ name: '$ihe-pix', resourceType: 'Patient', method: 'GET', input: { sourceIdentifier: 'urn:oid:1.2.3.999|ZY0042' } }));
    assert.equal(unknownDomain.status, 404); // the platform's contract; the profile's 400 (see fhir-operations.ts)
    assert.equal(unknownDomain.data.issue[0].code, 'code-invalid');
    assert.equal(unknownDomain.data.issue[0].diagnostics, 'sourceIdentifier Assigning Authority not found');
    const unknownTarget = await failure(hospital.operation({ name: '$ihe-pix', resourceType: 'Patient', method: 'GET', input: { sourceIdentifier: `${A}|ZY0042`, targetSystem: 'urn:oid:1.2.3.999' } }));
    assert.equal(unknownTarget.status, 403);
    assert.equal(unknownTarget.data.issue[0].code, 'code-invalid');
    assert.equal(unknownTarget.data.issue[0].diagnostics, 'targetSystem not found');
    const missing = await failure(hospital.operation({ name: '$ihe-pix', resourceType: 'Patient', method: 'GET', input: { targetSystem: A } }));
    assert.equal(missing.status, 400);
  });

  it('finds the region’s Patients of every institution by name, birthdate, gender and identifier (PDQm, ITI-78)', async () => {
    const byName = (await hospital.search({ resourceType: 'Patient', searchParams: { name: '沈丽华' } })) as unknown as Bundle;
    assert.equal(byName.type, 'searchset');
    assert.ok(ids(byName).includes(keys.a) && ids(byName).includes(keys.c), JSON.stringify(ids(byName)));
    const narrowed = (await hospital.search({ resourceType: 'Patient', searchParams: { name: '沈丽华', birthdate: '1990-11-02', gender: 'female' } })) as unknown as Bundle;
    assert.deepEqual(ids(narrowed), [keys.c]);
    const byOtherId = (await hospital.search({ resourceType: 'Patient', searchParams: { identifier: `${B}|MZ7781` } })) as unknown as Bundle;
    assert.deepEqual(ids(byOtherId), [keys.b]);
    const byRid = (await clinic.search({ resourceType: 'Patient', searchParams: { identifier: `${RESIDENT_ID_SYSTEM}|${RID}` } })) as unknown as Bundle;
    assert.deepEqual(ids(byRid), [keys.a]);
    const male = (await hospital.search({ resourceType: 'Patient', searchParams: { name: '沈丽华', gender: 'male' } })) as unknown as Bundle;
    assert.deepEqual(ids(male), []);
  });
});
