import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { harness, patient, type Harness } from './test-helpers.ts';

describe('FHIR CRUD and history', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it('creates a Patient with a server-assigned id, version 1, ETag and Location', async () => {
    const r = await h.call('POST', 'Patient', { body: patient('110101198005170011') });
    assert.equal(r.status, 201);
    assert.match(r.resource.id, /^[0-9a-f-]{36}$/);
    assert.equal(r.resource.meta.versionId, '1');
    assert.equal(r.headers.ETag, 'W/"1"');
    assert.equal(r.headers.Location, `https://hb.example/fhir/Patient/${r.resource.id}/_history/1`);
    const read = await h.call('GET', `Patient/${r.resource.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.resource, r.resource);
  });
});
