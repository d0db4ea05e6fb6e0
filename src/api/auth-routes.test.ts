import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { JWT_BEARER_ASSERTION } from '../auth/index.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

const TOKEN_URL = 'http://localhost:80/auth/token'; // what inject() requests look like to the server

describe('SMART Backend Services client assertions at /auth/token', () => {
  let p: TestPlatform;
  let key: CryptoKey;
  let clientId: string;
  let institutionId: string;

  before(async () => {
    p = await openTestPlatform();
    const pair = await generateKeyPair('ES384');
    key = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES384' };
    const res = await p.app.inject({
      method: 'POST', url: '/admin/institutions',
      headers: { authorization: `Bearer ${await p.adminToken()}` },
      payload: { name: 'SMART backend ' + randomUUID().slice(0, 6), jwks: { keys: [jwk] } },
    });
    assert.equal(res.statusCode, 201, res.body);
    clientId = res.json().client_id;
    institutionId = res.json().id;
  });
  after(() => p.close());

  function assertion(o: { aud?: string; exp?: number; signWith?: CryptoKey; jti?: string } = {}) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid: 'k1', typ: 'JWT' })
      .setIssuer(clientId).setSubject(clientId).setAudience(o.aud ?? TOKEN_URL)
      .setExpirationTime(o.exp ?? now + 240).setJti(o.jti ?? randomUUID())
      .sign(o.signWith ?? key);
  }

  const exchange = (jwt: string, scope?: string) =>
    p.app.inject({
      method: 'POST', url: '/auth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: jwt, ...(scope ? { scope } : {}) }).toString(),
    });

  it('issues a system token for a valid assertion signed with the registered key, narrowed to the requested scope', async () => {
    const res = await exchange(await assertion(), 'system/Observation.rs');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().scope, 'system/Observation.rs');
    const actor = await p.deps.auth.verify(res.json().access_token);
    assert.deepEqual([actor.kind, actor.subject, actor.institutionId], ['system', clientId, institutionId]);
  });

  it('refuses a replayed assertion, another key, another audience and a lifetime over five minutes with 401', async () => {
    const once = await assertion();
    assert.equal((await exchange(once)).statusCode, 200);
    const replay = await exchange(once);
    assert.equal(replay.statusCode, 401);
    assert.match(replay.json().error_description, /jti/);
    const other = (await generateKeyPair('ES384')).privateKey;
    assert.equal((await exchange(await assertion({ signWith: other }))).statusCode, 401);
    assert.equal((await exchange(await assertion({ aud: 'https://elsewhere/token' }))).statusCode, 401);
    assert.equal((await exchange(await assertion({ exp: Math.floor(Date.now() / 1000) + 3600 }))).statusCode, 401);
    assert.equal((await exchange(await assertion({ exp: Math.floor(Date.now() / 1000) - 60 }))).statusCode, 401);
  });

  it('publishes SMART discovery without a token', async () => {
    const res = await p.app.inject({ method: 'GET', url: '/fhir/.well-known/smart-configuration' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().token_endpoint, TOKEN_URL);
    assert.ok(res.json().token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  });

  it('refuses to register a JWKS that holds a private key', async () => {
    const pair = await generateKeyPair('ES384', { extractable: true });
    const res = await p.app.inject({
      method: 'POST', url: '/admin/institutions',
      headers: { authorization: `Bearer ${await p.adminToken()}` },
      payload: { name: 'leaky', jwks: { keys: [await exportJWK(pair.privateKey)] } },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().resourceType, 'OperationOutcome');
  });
});
