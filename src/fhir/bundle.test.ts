import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { harness, patient, type Harness } from './test-helpers.ts';

const ORG_ID = { system: 'urn:uscc', value: '12330523MB0000009' };

/** The bundle an institution sends for one visit: its Organization (conditional), the Patient (conditional), data. */
function visitBundle(resident: string, loinc: string): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:obs',
        resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: loinc }] }, subject: { reference: 'urn:uuid:pat' }, encounter: { reference: 'urn:uuid:enc' }, performer: [{ reference: 'urn:uuid:org' }] },
        request: { method: 'POST', url: 'Observation' },
      },
      {
        fullUrl: 'urn:uuid:enc',
        resource: { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: 'urn:uuid:pat' }, serviceProvider: { reference: 'urn:uuid:org' } },
        request: { method: 'POST', url: 'Encounter' },
      },
      {
        fullUrl: 'urn:uuid:pat',
        resource: patient(resident, { managingOrganization: { reference: 'urn:uuid:org' } }),
        request: { method: 'PUT', url: `Patient?identifier=urn:oid:2.16.156.10011.1.1|${resident}` },
      },
      {
        fullUrl: 'urn:uuid:org',
        resource: { resourceType: 'Organization', identifier: [ORG_ID], name: '递铺镇卫生院' },
        request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=${ORG_ID.system}|${ORG_ID.value}` },
      },
    ],
  };
}

describe('transaction Bundles', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it('resolves urn:uuid references to the assigned ids everywhere in the bundle, answering in entry order', async () => {
    const r = await h.call('POST', '', { body: visitBundle('330523198001010011', '8480-6') });
    assert.equal(r.status, 200);
    assert.equal(r.resource.type, 'transaction-response');
    const [obs, enc, pat, org] = r.resource.entry.map((e: any) => e.resource);
    assert.deepEqual(r.resource.entry.map((e: any) => e.response.status), ['201', '201', '201', '201']);
    assert.equal(obs.subject.reference, `Patient/${pat.id}`);
    assert.equal(obs.encounter.reference, `Encounter/${enc.id}`);
    assert.equal(obs.performer[0].reference, `Organization/${org.id}`);
    assert.equal(pat.managingOrganization.reference, `Organization/${org.id}`);
    assert.equal(r.resource.entry[0].response.location, `Observation/${obs.id}/_history/1`);
    const stored = await h.call('GET', `Observation/${obs.id}`);
    assert.equal(stored.resource.subject.reference, `Patient/${pat.id}`);
    const rows = await h.db.query<{ patient_key: string }>('SELECT patient_key FROM fhir_resource WHERE id = $1', [obs.id]);
    assert.equal(rows.rows[0].patient_key, pat.id);
  });

  it('stores the Organization many bundles repeat once, and upserts the Patient idempotently', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await h.call('POST', '', { body: visitBundle('330523198001010011', '2345-7') });
      assert.equal(r.status, 200);
      assert.equal(r.resource.entry[3].response.status, '200', 'the conditional create matched');
    }
    const orgs = await h.call('GET', 'Organization', { query: `identifier=${ORG_ID.value}` });
    assert.equal(orgs.resource.entry.length, 1);
    const pats = await h.call('GET', 'Patient', { query: 'identifier=330523198001010011' });
    assert.equal(pats.resource.entry.length, 1);
    assert.equal(pats.resource.entry[0].resource.meta.versionId, '6');
    const obs = await h.call('GET', 'Observation', { query: `patient=${pats.resource.entry[0].resource.id}&_count=100` });
    assert.equal(obs.resource.entry.length, 6);
  });

  it('resolves urn:uuid references inside conditional-create queries', async () => {
    const bundle = () => ({
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:lab',
          resource: { resourceType: 'Observation', identifier: [{ system: 'urn:lis', value: 'L-1' }], status: 'final', code: { text: 'Hb' }, subject: { reference: 'urn:uuid:who' } },
          request: { method: 'POST', url: 'Observation', ifNoneExist: 'identifier=urn:lis|L-1&subject=urn:uuid:who' },
        },
        { fullUrl: 'urn:uuid:who', resource: patient('URN-COND'), request: { method: 'PUT', url: 'Patient?identifier=URN-COND' } },
      ],
    });
    const first = await h.call('POST', '', { body: bundle() });
    const second = await h.call('POST', '', { body: bundle() });
    assert.deepEqual(first.resource.entry.map((e: any) => e.response.status), ['201', '201']);
    assert.deepEqual(second.resource.entry.map((e: any) => e.response.status), ['200', '200']);
    assert.equal(second.resource.entry[0].resource.id, first.resource.entry[0].resource.id);
    assert.equal(second.resource.entry[0].resource.subject.reference, `Patient/${first.resource.entry[1].resource.id}`);
  });

  it('stores a conditional create repeated inside one bundle once', async () => {
    const org = (u: string) => ({ fullUrl: u, resource: { resourceType: 'Organization', identifier: [{ system: 'urn:uscc', value: 'SAME' }], name: 'Same' }, request: { method: 'POST', url: 'Organization', ifNoneExist: 'identifier=urn:uscc|SAME' } });
    const r = await h.call('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry: [org('urn:uuid:a'), org('urn:uuid:b')] } });
    assert.equal(r.status, 200);
    assert.equal(r.resource.entry[0].resource.id, r.resource.entry[1].resource.id);
    assert.equal((await h.call('GET', 'Organization', { query: 'identifier=SAME' })).resource.entry.length, 1);
  });

  it('rolls back every entry when one entry is invalid, naming the entry', async () => {
    const bundle = visitBundle('330523199901010099', '8480-6') as { entry: any[] };
    bundle.entry[1].resource.status = 'finishedX';
    const r = await h.call('POST', '', { body: bundle });
    assert.equal(r.status, 422);
    assert.match(r.resource.issue[0].expression[0], /^Bundle\.entry\[1\]\.resource\.Encounter\.status$/);
    assert.equal((await h.call('GET', 'Patient', { query: 'identifier=330523199901010099' })).resource.entry.length, 0);
    assert.equal((await h.call('GET', 'Organization', { query: `identifier=${ORG_ID.value}` })).resource.entry.length, 1);
  });

  it('rolls back when an If-Match in one entry fails, with 412', async () => {
    const p = await h.call('POST', 'Patient', { body: patient('TX-LOCK') });
    const r = await h.call('POST', '', {
      body: {
        resourceType: 'Bundle', type: 'transaction',
        entry: [
          { resource: patient('TX-NEW'), request: { method: 'POST', url: 'Patient' } },
          { resource: { ...patient('TX-LOCK'), id: p.resource.id }, request: { method: 'PUT', url: `Patient/${p.resource.id}`, ifMatch: 'W/"3"' } },
        ],
      },
    });
    assert.equal(r.status, 412);
    assert.equal((await h.call('GET', 'Patient', { query: 'identifier=TX-NEW' })).resource.entry.length, 0);
  });

  it('processes DELETE before POST before PUT before GET, whatever the entry order', async () => {
    const old = await h.call('POST', 'Patient', { body: patient('ORDER-OLD') });
    const r = await h.call('POST', '', {
      body: {
        resourceType: 'Bundle', type: 'transaction',
        entry: [
          { request: { method: 'GET', url: 'Patient?identifier=ORDER-NEW' } },
          { resource: patient('ORDER-NEW'), request: { method: 'POST', url: 'Patient' } },
          { request: { method: 'DELETE', url: `Patient/${old.resource.id}` } },
        ],
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.resource.entry[0].resource.entry.length, 1, 'the GET sees the POST');
    assert.equal(r.resource.entry[2].response.status, '204');
    assert.equal((await h.call('GET', `Patient/${old.resource.id}`)).status, 410);
  });

  it('writes a transaction of 90 resources, 30 of them conditional upserts, with a handful of statements, not one per resource', async () => {
    const entry: unknown[] = [];
    for (let i = 0; i < 30; i++) {
      const b = visitBundle(`3305232000010100${String(i).padStart(2, '0')}`, '8480-6') as { entry: any[] };
      for (const e of b.entry) e.fullUrl = e.fullUrl + '-' + i;
      for (const e of b.entry) for (const k of ['subject', 'encounter', 'serviceProvider', 'managingOrganization']) if (e.resource[k]) e.resource[k].reference += '-' + i;
      if (b.entry[0].resource.performer) b.entry[0].resource.performer[0].reference += '-' + i;
      entry.push(...b.entry.slice(0, 3));
    }
    let statements = 0;
    const transaction = h.db.transaction.bind(h.db);
    h.db.transaction = (fn) => transaction((tx) => fn({ ...tx, query: (sql, params) => (statements++, tx.query(sql, params)), exec: tx.exec }));
    try {
      const r = await h.call('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry } });
      assert.equal(r.status, 200, JSON.stringify(r.resource));
      assert.equal(r.resource.entry.length, 90);
    } finally {
      h.db.transaction = transaction;
    }
    assert.ok(statements <= 6, `${statements} statements`);
  });

  it('rejects a transaction that writes the same resource twice', async () => {
    const r = await h.call('POST', '', {
      body: {
        resourceType: 'Bundle', type: 'transaction',
        entry: [
          { resource: { ...patient('TWICE'), id: 'twice' }, request: { method: 'PUT', url: 'Patient/twice' } },
          { resource: { ...patient('TWICE'), id: 'twice' }, request: { method: 'PUT', url: 'Patient/twice' } },
        ],
      },
    });
    assert.equal(r.status, 400);
  });

  it('rejects a Bundle that is not batch or transaction, and entries without request', async () => {
    assert.equal((await h.call('POST', '', { body: { resourceType: 'Bundle', type: 'collection', entry: [] } })).status, 400);
    assert.equal((await h.call('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient('X') }] } })).status, 400);
    assert.equal((await h.call('POST', '', { body: { resourceType: 'Patient' } })).status, 400);
  });
});

describe('batch Bundles', () => {
  let h: Harness;
  before(async () => (h = await harness()));
  after(() => h.close());

  it('processes each entry independently and answers each with its own status or OperationOutcome', async () => {
    const r = await h.call('POST', '/', {
      body: {
        resourceType: 'Bundle', type: 'batch',
        entry: [
          { resource: patient('B-1'), request: { method: 'POST', url: 'Patient' } },
          { resource: patient('B-2', { gender: 'unknownX' }), request: { method: 'POST', url: 'Patient' } },
          { request: { method: 'GET', url: 'Patient/missing' } },
          { request: { method: 'GET', url: 'Patient?identifier=B-1' } },
        ],
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.resource.type, 'batch-response');
    assert.deepEqual(r.resource.entry.map((e: any) => e.response.status), ['201', '422', '404', '200']);
    assert.equal(r.resource.entry[1].response.outcome.resourceType, 'OperationOutcome');
    assert.equal(r.resource.entry[3].resource.entry.length, 1);
  });
});
