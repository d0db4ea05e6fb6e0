import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Client } from 'fhir-kit-client';
import { openTestPlatform, type TestPlatform } from './testing.ts';

// fhir-kit-client rejects with { response: { status, data } } on non-2xx answers.
async function failure(p: Promise<unknown>): Promise<{ status: number; data: { resourceType?: string; issue?: Array<{ code: string }> } }> {
  try {
    await p;
  } catch (err) {
    return (err as { response: { status: number; data: { resourceType?: string } } }).response;
  }
  assert.fail('expected the request to fail');
}

// Responses are checked field by field below; typing every FHIR shape here would only restate the assertions.
type Any = any;

describe('FHIR API through a real listening server, driven by fhir-kit-client', () => {
  let p: TestPlatform;
  let base: string;
  let fhir: Client;
  before(async () => {
    p = await openTestPlatform();
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}/fhir`;
    const inst = await p.addInstitution('E2E 县人民医院');
    fhir = new Client({ baseUrl: base, bearerToken: inst.token });
  });
  after(() => p.close());

  it('reads the CapabilityStatement without a token', async () => {
    const cs = (await new Client({ baseUrl: base }).capabilityStatement()) as Any;
    assert.equal(cs.resourceType, 'CapabilityStatement');
    assert.equal(cs.fhirVersion, '4.0.1');
    assert.ok(cs.rest[0].resource.some((r: Any) => r.type === 'Patient'));
  });

  it('creates, reads, updates and searches a Patient by identifier', async () => {
    const id = '330523199001011234';
    const created = (await fhir.create({
      resourceType: 'Patient',
      body: { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.156.112606.1.2.1', value: id }], name: [{ text: '张三', family: '张', given: ['三'] }], gender: 'male', birthDate: '1990-01-01' },
    })) as Any;
    assert.ok(created.id);
    assert.equal(created.meta.versionId, '1');
    const read = (await fhir.read({ resourceType: 'Patient', id: created.id })) as Any;
    assert.equal(read.name[0].text, '张三');
    const updated = (await fhir.update({ resourceType: 'Patient', id: created.id, body: { ...read, telecom: [{ system: 'phone', value: '13800000000' }] } })) as Any;
    assert.equal(updated.meta.versionId, '2');
    const found = (await fhir.search({ resourceType: 'Patient', searchParams: { identifier: `urn:oid:1.2.156.112606.1.2.1|${id}` } })) as Any;
    assert.equal(found.resourceType, 'Bundle');
    assert.deepEqual(found.entry.map((e: Any) => e.resource.id), [created.id]);
    assert.equal(found.entry[0].resource.telecom[0].value, '13800000000');
  });

  it('pages through Observations of a patient with next links, each exactly once', async () => {
    const pat = (await fhir.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ text: '李四' }] } })) as Any;
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const o = (await fhir.create({
        resourceType: 'Observation',
        body: {
          resourceType: 'Observation', status: 'final',
          code: { coding: [{ system: 'http://loinc.org', code: '8480-6', display: 'Systolic blood pressure' }] },
          subject: { reference: `Patient/${pat.id}` }, effectiveDateTime: `2026-01-0${i + 1}T08:00:00Z`,
          valueQuantity: { value: 120 + i, unit: 'mm[Hg]', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' },
        },
      })) as Any;
      ids.add(o.id);
    }
    let page = (await fhir.search({ resourceType: 'Observation', searchParams: { subject: `Patient/${pat.id}`, _count: 2 } })) as Any;
    const seen: string[] = [];
    let pages = 0;
    while (page) {
      pages++;
      seen.push(...(page.entry ?? []).map((e: Any) => e.resource.id));
      page = page.link?.some((l: Any) => l.relation === 'next') ? await fhir.nextPage({ bundle: page }) : undefined;
    }
    assert.equal(pages, 3);
    assert.deepEqual(new Set(seen), ids);
    assert.equal(seen.length, 5);
  });

  it('posts a transaction Bundle whose urn:uuid references are resolved to the new ids', async () => {
    const res = (await fhir.transaction({
      body: {
        resourceType: 'Bundle', type: 'transaction',
        entry: [
          // An institution's Bundle is standardized (docs/INGEST.md): its Patient needs a local id, its Observation a code.
          { fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111', resource: { resourceType: 'Patient', identifier: [{ system: 'urn:his:mrn', value: 'W5' }], name: [{ text: '王五' }] }, request: { method: 'POST', url: 'Patient' } },
          {
            resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }], text: 'heart rate' }, subject: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' }, valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      },
    })) as Any;
    assert.equal(res.type, 'transaction-response');
    assert.deepEqual(res.entry.map((e: Any) => e.response.status.slice(0, 3)), ['201', '201']);
    const patientId = res.entry[0].response.location.match(/Patient\/([^/]+)/)[1];
    const obsId = res.entry[1].response.location.match(/Observation\/([^/]+)/)[1];
    const obs = (await fhir.read({ resourceType: 'Observation', id: obsId })) as Any;
    assert.equal(obs.subject.reference, `Patient/${patientId}`);
  });

  it('answers bad input with OperationOutcomes: invalid code, wrong resourceType, unknown search parameter, missing resource, no token', async () => {
    const badCode = await failure(fhir.create({ resourceType: 'Patient', body: { resourceType: 'Patient', gender: 'unknownX' } }));
    assert.ok([400, 422].includes(badCode.status), String(badCode.status));
    assert.equal(badCode.data.resourceType, 'OperationOutcome');
    const wrongType = await failure(fhir.create({ resourceType: 'Patient', body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }));
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.data.resourceType, 'OperationOutcome');
    const badParam = await failure(fhir.search({ resourceType: 'Patient', searchParams: { 'no-such-param': 'x' } }));
    assert.equal(badParam.status, 400);
    assert.equal(badParam.data.resourceType, 'OperationOutcome');
    const missing = await failure(fhir.read({ resourceType: 'Patient', id: 'does-not-exist' }));
    assert.equal(missing.status, 404);
    assert.equal(missing.data.resourceType, 'OperationOutcome');
    const anonymous = await failure(new Client({ baseUrl: base }).read({ resourceType: 'Patient', id: 'x' }));
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.data.resourceType, 'OperationOutcome');
  });
});
