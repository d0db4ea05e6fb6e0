import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { getStatus } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { InjectOptions } from 'fastify';
import { fixedClock } from '../config/index.ts';
import { generateSigningKeys, signToken, TOKEN_AUDIENCE, TOKEN_ISSUER, type SigningKeys } from '../auth/index.ts';
import type { FhirRequest, RequestContext } from '../fhir/context.ts';
import type { FhirPort } from './deps.ts';
import { createLogger } from './platform.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

/** A tiny in-memory FHIR router: enough to see what the HTTP layer hands over and how it serialises the answer. */
function tinyFhir(): FhirPort & { seen: Array<{ req: FhirRequest; ctx: RequestContext }> } {
  const store = new Map<string, Resource>();
  const seen: Array<{ req: FhirRequest; ctx: RequestContext }> = [];
  return {
    seen,
    status: getStatus,
    capabilityStatement: (baseUrl) => ({ resourceType: 'CapabilityStatement', status: 'active', date: '2026-01-01', kind: 'instance', fhirVersion: '4.0.1', format: ['json'], implementation: { description: 'tiny', url: baseUrl } }),
    async handle(req, ctx) {
      seen.push({ req, ctx });
      if (req.path === 'boom') throw new Error('secret detail at /work/main/src/x.ts:1');
      const ok = { resourceType: 'OperationOutcome' as const, id: 'ok', issue: [{ severity: 'information' as const, code: 'informational' as const }] };
      if (req.method === 'POST' && req.path === '') return { outcome: ok, resource: { resourceType: 'Bundle', type: 'transaction-response' } };
      if (req.method === 'POST') {
        const id = String(store.size + 1);
        const r = { ...(req.body as Resource), id };
        store.set(`${req.path}/${id}`, r);
        return { outcome: { ...ok, id: 'created' }, resource: r, headers: { location: `${ctx.baseUrl}/${req.path}/${id}/_history/1`, etag: 'W/"1"' } };
      }
      const r = store.get(req.path);
      return r ? { outcome: ok, resource: r } : { outcome: { resourceType: 'OperationOutcome', id: 'not-found', issue: [{ severity: 'error', code: 'not-found' }] } };
    },
  };
}

describe('HTTP layer', () => {
  let p: TestPlatform;
  let keys: SigningKeys;
  const clock = fixedClock(new Date('2026-03-01T08:00:00Z'));
  const fhir = tinyFhir();
  const inject = (o: InjectOptions) => p.app.inject(o);
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  before(async () => {
    keys = await generateSigningKeys();
    p = await openTestPlatform({ fhir, keys, clock, env: { HEALTHBRAIN_BODY_LIMIT_MB: '0.05' } });
  });
  after(() => p.close());

  it('answers GET /fhir/metadata without a token, as application/fhir+json', async () => {
    const res = await inject({ method: 'GET', url: '/fhir/metadata' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/fhir\+json/);
    assert.equal(res.json().resourceType, 'CapabilityStatement');
    assert.equal(res.json().implementation.url, 'http://localhost:80/fhir');
  });

  it('refuses a search without a token with 401 and a WWW-Authenticate challenge', async () => {
    const res = await inject({ method: 'GET', url: '/fhir/Patient' });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().resourceType, 'OperationOutcome');
    assert.equal(res.json().issue[0].code, 'login');
    assert.match(String(res.headers['www-authenticate']), /^Bearer/);
  });

  it('exchanges an institution client id and secret for a token that creates a Patient (201, Location, ETag)', async () => {
    const inst = await p.addInstitution();
    const form = await inject({
      method: 'POST', url: '/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: inst.clientId, client_secret: inst.clientSecret }).toString(),
    });
    assert.equal(form.statusCode, 200);
    const tok = form.json();
    assert.equal(tok.token_type, 'Bearer');
    assert.equal(tok.scope, 'system/*.read system/*.write');
    assert.equal(tok.expires_in, 3600);
    const res = await inject({ method: 'POST', url: '/fhir/Patient', headers: { ...bearer(tok.access_token), 'content-type': 'application/fhir+json' }, payload: '{"resourceType":"Patient"}' });
    assert.equal(res.statusCode, 201);
    assert.match(String(res.headers.location), /^http:\/\/localhost:80\/fhir\/Patient\/\d+\/_history\/1$/);
    assert.equal(res.headers.etag, 'W/"1"');
    const { ctx } = fhir.seen.at(-1)!;
    assert.deepEqual(ctx.actor, { kind: 'system', subject: inst.clientId, institutionId: inst.id, scopes: ['system/*.read', 'system/*.write'] });
  });

  it('accepts client credentials by HTTP Basic and rejects a wrong secret with 401', async () => {
    const inst = await p.addInstitution();
    const basic = (s: string) => ({ authorization: 'Basic ' + Buffer.from(`${inst.clientId}:${s}`).toString('base64') });
    const good = await inject({ method: 'POST', url: '/auth/token', headers: basic(inst.clientSecret), payload: { grant_type: 'client_credentials' } });
    assert.equal(good.statusCode, 200);
    const bad = await inject({ method: 'POST', url: '/auth/token', headers: basic(inst.clientSecret + 'x'), payload: { grant_type: 'client_credentials' } });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.json().error, 'invalid_client');
    const unknown = await inject({ method: 'POST', url: '/auth/token', payload: { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' } });
    assert.equal(unknown.statusCode, 401);
    const grant = await inject({ method: 'POST', url: '/auth/token', payload: { grant_type: 'password' } });
    assert.equal(grant.statusCode, 400);
  });

  it('rotates a lost secret: the old one stops working, the new one works', async () => {
    const inst = await p.addInstitution();
    const res = await inject({ method: 'POST', url: `/admin/institutions/${inst.code}/secret`, headers: bearer(await p.adminToken()) });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().client_id, inst.clientId);
    const grant = (secret: string) =>
      inject({ method: 'POST', url: '/auth/token', payload: { grant_type: 'client_credentials', client_id: inst.clientId, client_secret: secret } });
    assert.equal((await grant(inst.clientSecret)).statusCode, 401);
    assert.equal((await grant(res.json().client_secret)).statusCode, 200);
  });

  it('rejects an expired token with 401', async () => {
    const inst = await p.addInstitution();
    clock.advance(3601_000);
    const res = await inject({ method: 'GET', url: '/fhir/Patient/1', headers: bearer(inst.token) });
    assert.equal(res.statusCode, 401);
    assert.match(res.json().issue[0].details.text, /expired/);
  });

  it('rejects a forged signature and a token for another audience or issuer with 401', async () => {
    const now = clock.now();
    const claims = { kind: 'system' as const, subject: 'x', scopes: ['system/*.read'] };
    const forged = await signToken(await generateSigningKeys(), claims, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, now, ttlSeconds: 60 });
    const otherAud = await signToken(keys, claims, { issuer: TOKEN_ISSUER, audience: 'urn:someone-else', now, ttlSeconds: 60 });
    const otherIss = await signToken(keys, claims, { issuer: 'urn:someone-else', audience: TOKEN_AUDIENCE, now, ttlSeconds: 60 });
    const good = await signToken(keys, claims, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, now, ttlSeconds: 60 });
    for (const t of [forged, otherAud, otherIss]) {
      const res = await inject({ method: 'GET', url: '/fhir/Patient/1', headers: bearer(t.access_token) });
      assert.equal(res.statusCode, 401);
    }
    const res = await inject({ method: 'GET', url: '/fhir/Patient/nope', headers: bearer(good.access_token) });
    assert.equal(res.statusCode, 404, 'the same claims signed properly get through to the router');
  });

  it('answers 403 when the token lacks the scope: an auditor searching Patients, a read-only client writing', async () => {
    const admin = await p.adminToken();
    const aud = await inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload: { role: 'auditor' } });
    const res = await inject({ method: 'GET', url: '/fhir/Patient', headers: bearer(aud.json().access_token) });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().issue[0].code, 'forbidden');
    const inst = await p.addInstitution();
    const ro = await inject({ method: 'POST', url: '/auth/token', payload: { grant_type: 'client_credentials', client_id: inst.clientId, client_secret: inst.clientSecret, scope: 'system/*.read' } });
    assert.equal(ro.json().scope, 'system/*.read');
    const write = await inject({ method: 'POST', url: '/fhir/Patient', headers: bearer(ro.json().access_token), payload: { resourceType: 'Patient' } });
    assert.equal(write.statusCode, 403);
  });

  it('answers malformed JSON with 400 OperationOutcome', async () => {
    const inst = await p.addInstitution();
    const res = await inject({ method: 'POST', url: '/fhir/Patient', headers: { ...bearer(inst.token), 'content-type': 'application/fhir+json' }, payload: '{"resourceType": "Patient",' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().resourceType, 'OperationOutcome');
    assert.equal(res.json().issue[0].code, 'structure');
  });

  it('answers a body over the configured limit with 413 OperationOutcome', async () => {
    const inst = await p.addInstitution();
    const big = JSON.stringify({ resourceType: 'Patient', text: { div: 'x'.repeat(60_000) } });
    const res = await inject({ method: 'POST', url: '/fhir/Patient', headers: { ...bearer(inst.token), 'content-type': 'application/json' }, payload: big });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().issue[0].code, 'too-long');
  });

  it('answers an unsupported content type with 415 and an unknown route with 404, both as OperationOutcome', async () => {
    const inst = await p.addInstitution();
    const xml = await inject({ method: 'POST', url: '/fhir/Patient', headers: { ...bearer(inst.token), 'content-type': 'application/fhir+xml' }, payload: '<Patient/>' });
    assert.equal(xml.statusCode, 415);
    assert.equal(xml.json().resourceType, 'OperationOutcome');
    const nf = await inject({ method: 'GET', url: '/no/such/thing' });
    assert.equal(nf.statusCode, 404);
    assert.equal(nf.json().resourceType, 'OperationOutcome');
  });

  it('never leaks a stack trace or internal detail when the router throws: 500 with the request id', async () => {
    const inst = await p.addInstitution();
    const res = await inject({ method: 'GET', url: '/fhir/boom', headers: { ...bearer(inst.token), 'x-request-id': 'req-42' } });
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().issue[0].code, 'exception');
    assert.match(res.json().issue[0].details.text, /req-42/);
    assert.equal(res.headers['x-request-id'], 'req-42');
    assert.doesNotMatch(res.body, /secret detail|\/work\/|\.ts:|at .*\(/);
  });

  it('hands a Bundle posted to /fhir and to /fhir/ to the router as a base-level POST', async () => {
    // A person's Bundle (an institution's system's Bundle is ingested: src/api/ingest-fhir-hook.test.ts).
    const clin = await inject({ method: 'POST', url: '/admin/tokens', headers: bearer(await p.adminToken()), payload: { role: 'clinician', user: 'dr-li' } });
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }] };
    for (const url of ['/fhir', '/fhir/']) {
      const res = await inject({ method: 'POST', url, headers: { ...bearer(clin.json().access_token), 'content-type': 'application/fhir+json' }, payload: JSON.stringify(bundle) });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.json().type, 'transaction-response');
      const { req } = fhir.seen.at(-1)!;
      assert.equal(req.path, '');
      const got = req.body as typeof bundle;
      assert.equal(got.type, 'transaction');
      assert.deepEqual(got.entry.map((e) => [e.resource.resourceType, e.request]), [['Patient', { method: 'POST', url: 'Patient' }]]);
    }
  });

  it('builds the FhirRequest with the decoded path, query in order with repeats, and lower-cased headers', async () => {
    const inst = await p.addInstitution();
    await inject({ method: 'GET', url: '/fhir/Patient/%24match?name=%E6%9D%8E&date=ge2020&date=lt2021', headers: { ...bearer(inst.token), 'If-None-Match': 'W/"3"' } });
    const { req } = fhir.seen.at(-1)!;
    assert.equal(req.path, 'Patient/$match');
    assert.deepEqual(req.query, [['name', '李'], ['date', 'ge2020'], ['date', 'lt2021']]);
    assert.equal(req.headers['if-none-match'], 'W/"3"');
  });

  it('lets only the admin or an operator register and list institutions, and only the admin mint tokens', async () => {
    assert.equal((await inject({ method: 'GET', url: '/admin/institutions' })).statusCode, 401);
    const admin = await p.adminToken();
    const clin = await inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload: { role: 'clinician' } });
    assert.equal((await inject({ method: 'GET', url: '/admin/institutions', headers: bearer(clin.json().access_token) })).statusCode, 403);
    const inst = await p.addInstitution();
    assert.equal((await inject({ method: 'GET', url: '/admin/institutions', headers: bearer(inst.token) })).statusCode, 403);
    const op = await inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload: { role: 'operator', user: 'op-1' } });
    const created = await inject({ method: 'POST', url: '/admin/institutions', headers: bearer(op.json().access_token), payload: { name: '安吉县人民医院', code: 'ajrmyy', type: 'hospital' } });
    assert.equal(created.statusCode, 201);
    const opMints = await inject({ method: 'POST', url: '/admin/tokens', headers: bearer(op.json().access_token), payload: { role: 'operator' } });
    assert.equal(opMints.statusCode, 403, 'only the platform admin mints tokens');
    assert.equal(created.json().code, 'AJRMYY');
    const dup = await inject({ method: 'POST', url: '/admin/institutions', headers: bearer(admin), payload: { name: 'other', code: 'AJRMYY' } });
    assert.equal(dup.statusCode, 409);
    const list = await inject({ method: 'GET', url: '/admin/institutions', headers: bearer(admin) });
    assert.ok(list.json().some((i: { name: string }) => i.name === '安吉县人民医院'));
    const byName = await inject({ method: 'POST', url: `/admin/institutions/${encodeURIComponent('安吉县人民医院')}/token`, headers: bearer(admin) });
    assert.equal(byName.statusCode, 200);
    const person = await inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload: { role: 'clinician', institution: 'ajrmyy', user: 'dr-wang' } });
    const seen = await inject({ method: 'GET', url: '/fhir/Patient/1', headers: bearer(person.json().access_token) });
    assert.equal(seen.statusCode, 200);
    assert.deepEqual(fhir.seen.at(-1)!.ctx.actor, { kind: 'user', subject: 'dr-wang', role: 'clinician', institutionId: created.json().id, scopes: ['user/*.read', 'user/*.write'] });
    const badRole = await inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload: { role: 'admin' } });
    assert.equal(badRole.statusCode, 403);
  });

  it('answers /healthz when the database answers', async () => {
    const res = await inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 'ok');
  });
});

describe('request logs', () => {
  it('log the path and request id but never the query string, which carries identifiers and names', async () => {
    const lines: string[] = [];
    const logger = createLogger({ logLevel: 'info' }, { write: (s: string) => void lines.push(s) });
    const p = await openTestPlatform({ logger, fhir: tinyFhir() });
    try {
      const inst = await p.addInstitution();
      await p.app.inject({ method: 'GET', url: '/fhir/Patient?identifier=330523199001011234&name=%E5%BC%A0', headers: { authorization: `Bearer ${inst.token}`, 'x-request-id': 'log-1' } });
      const mine = lines.map((l) => JSON.parse(l)).filter((l) => l.reqId === 'log-1');
      assert.ok(mine.some((l) => l.req?.path === '/fhir/Patient'), JSON.stringify(mine));
      assert.doesNotMatch(lines.join('\n'), /330523199001011234|identifier=/);
      assert.doesNotMatch(lines.join('\n'), new RegExp(inst.token.split('.')[2]), 'tokens are not logged');
    } finally {
      await p.close();
    }
  });
});
