import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import iconv from 'iconv-lite';
import type { Db } from '../store/index.ts';
import { ingestFor } from './ingest-runtime.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

const FHIR_JSON = 'application/fhir+json';

/** Landed bytes as sent: the landing store may seal them at rest (SM4), unsealed when the database carries its keys. */
const asSent = (db: Db, content: Uint8Array): Buffer =>
  Buffer.from((db as unknown as { crypto?: { unseal(b: Uint8Array): Uint8Array } }).crypto?.unseal(content) ?? content);

describe(`bad HTTP input is refused with a 400/415 OperationOutcome, never a 500, on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let inst: Awaited<ReturnType<TestPlatform['addInstitution']>>;
  const call = (method: 'GET' | 'POST' | 'PUT', url: string, body?: string | Buffer, type = FHIR_JSON) =>
    p.app.inject({ method, url, headers: { authorization: `Bearer ${inst.token}`, ...(body !== undefined ? { 'content-type': type } : {}) }, ...(body !== undefined ? { payload: body } : {}) });
  const refused = (res: Awaited<ReturnType<typeof call>>, status: number, text: RegExp) => {
    assert.equal(res.statusCode, status, res.body);
    const outcome = res.json();
    assert.equal(outcome.resourceType, 'OperationOutcome');
    assert.match(outcome.issue[0].details.text, text);
  };

  before(async () => {
    p = await openTestPlatform();
    inst = await p.addInstitution('县人民医院');
  });
  after(async () => {
    await p.close();
  });

  it('refuses NUL in a search parameter, a path segment and a form (PostgreSQL cannot hold it in text)', async () => {
    refused(await call('GET', '/fhir/Patient?name=%00'), 400, /URL query holds a NUL character/);
    refused(await call('GET', '/fhir/Patient?name=zh%00ang&gender=male'), 400, /NUL/);
    refused(await call('GET', '/fhir/Patient/abc%00def'), 400, /URL path holds a NUL character/);
    refused(await call('POST', '/fhir/Patient/_search', 'name=%00', 'application/x-www-form-urlencoded'), 400, /form holds a NUL/);
    const token = await p.app.inject({ method: 'POST', url: '/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials&client_id=%00&client_secret=x' });
    refused(token, 400, /form field 'client_id' holds a NUL/);
  });

  it('refuses NUL in a JSON string or key of a resource, naming where', async () => {
    refused(await call('POST', '/fhir/Patient', JSON.stringify({ resourceType: 'Patient', name: [{ text: 'Zhang\u0000San' }] })), 400, /JSON string at name\[0\]\.text holds a NUL/);
    refused(await call('POST', '/fhir/Patient', '{"resourceType":"Patient","\\u0000x":1}'), 400, /JSON key .* holds a NUL/);
    // An unpaired surrogate is no character either (a 500 on PostgreSQL before: jsonb refuses it).
    refused(await call('POST', '/fhir/Patient', '{"resourceType":"Patient","name":[{"text":"\\ud800"}]}'), 400, /name\[0\]\.text holds an unpaired surrogate/);
  });

  it('answers a path with malformed percent-encoding with a 400 OperationOutcome', async () => {
    refused(await call('GET', '/fhir/Patient/%E0%A4%A'), 400, /not a valid url component/);
    refused(await call('GET', '/api/record/%E0%A4%A/summary'), 400, /not a valid url component/);
  });

  it('refuses JSON nested deeper than 100 levels and accepts an ordinary nested resource', async () => {
    // 200,000 levels: a 500 before (recursion further on overflowed the stack).
    const deep = '{"resourceType":"Patient","extension":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}';
    refused(await call('POST', '/fhir/Patient', deep), 400, /nested deeper than 100 levels/);
    const deepObject = { resourceType: 'Basic', code: { text: 'x' } } as Record<string, unknown>;
    let at = deepObject;
    for (let i = 0; i < 150; i++) at = (at.extension = [{ url: `urn:x:${i}` }])[0] as Record<string, unknown>;
    refused(await call('POST', '/fhir/Basic', JSON.stringify(deepObject)), 400, /nested deeper than 100 levels/);
    const ok = await call('POST', '/fhir/Patient', JSON.stringify({ resourceType: 'Patient', extension: [{ url: 'urn:x', extension: [{ url: 'urn:y', valueString: 'fine' }] }] }));
    assert.equal(ok.statusCode, 201, ok.body);
  });

  it('decodes a resource sent in a declared GBK charset and stores the sender\'s text, not U+FFFD', async () => {
    const body = iconv.encode(JSON.stringify({ resourceType: 'Patient', name: [{ text: '张三丰' }], gender: 'male' }), 'gbk');
    const res = await call('POST', '/fhir/Patient', body, `${FHIR_JSON}; charset=gbk`);
    assert.equal(res.statusCode, 201, res.body);
    const read = await call('GET', `/fhir/Patient/${res.json().id}`);
    assert.equal(read.json().name[0].text, '张三丰');
  });

  it('lands an institution\'s GB 18030 transaction Bundles verbatim with their charset, and both paths store the sender\'s text', async () => {
    const bundle = (mrn: string, name: string) => iconv.encode(JSON.stringify({
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ resource: { resourceType: 'Patient', identifier: [{ system: 'urn:gbk:mrn', value: mrn }], name: [{ text: name }] }, request: { method: 'POST', url: 'Patient' } }],
    }), 'gb18030');
    const type = `${FHIR_JSON}; charset=GB18030`;
    const nameAt = async (location: string) => (await call('GET', `/fhir/${location.replace(/\/_history\/.*$/, '')}`)).json().name?.[0]?.text;
    // Standardized in the request, from the parsed body.
    const sync = await call('POST', '/fhir', bundle('G-1', '李四'), type);
    assert.equal(sync.statusCode, 200, sync.body);
    assert.equal(await nameAt(sync.json().entry[0].response.location), '李四');
    // Standardized by the worker, from the landed bytes decoded in their recorded charset.
    const asyncPost = await p.app.inject({ method: 'POST', url: '/fhir', headers: { authorization: `Bearer ${inst.token}`, 'content-type': type, prefer: 'respond-async' }, payload: bundle('G-2', '赵六') });
    assert.equal(asyncPost.statusCode, 202, asyncPost.body);
    await ingestFor(p.deps).drain();
    const status = await call('GET', new URL(asyncPost.headers['content-location'] as string).pathname);
    assert.equal(status.statusCode, 200, status.body);
    assert.equal(await nameAt(status.json().entry[0].response.location), '赵六');
    const { rows } = await p.deps.db.query<{ content: Uint8Array; encoding: string }>(`SELECT content, encoding FROM landed_unit WHERE channel = 'fhir' AND institution_id = $1 ORDER BY id`, [inst.id]);
    assert.deepEqual(rows.map((r) => [asSent(p.deps.db, r.content), r.encoding]), [[bundle('G-1', '李四'), 'gb18030'], [bundle('G-2', '赵六'), 'gb18030']]);
  });

  it('refuses an unknown charset with 415 and bytes that are not UTF-8 when no charset is declared with 400', async () => {
    refused(await call('POST', '/fhir/Patient', '{"resourceType":"Patient"}', `${FHIR_JSON}; charset=klingon`), 415, /charset 'klingon' is not supported/);
    const gbkWithoutCharset = iconv.encode(JSON.stringify({ resourceType: 'Patient', name: [{ text: '王五' }] }), 'gbk');
    refused(await call('POST', '/fhir/Patient', gbkWithoutCharset), 400, /not valid UTF-8: declare its charset/);
  });

  it('answers an HL7 message holding NUL over HTTP with AR and the control id, not an error', async () => {
    const msg = 'MSH|^~\\&|HIS|H|HB|R|20240301||ADT^A01|NUL-1|P|2.5.1\rPID|1||M1^^^H^MR||Zhang\u0000San';
    const res = await call('POST', '/ingest/hl7', Buffer.from(msg), 'x-application/hl7-v2+er7');
    assert.equal(res.statusCode, 200, res.body);
    assert.match(res.body, /MSA\|AR\|NUL-1\|.*NUL/);
  });
});
