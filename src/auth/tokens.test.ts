import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { AuthError } from './errors.ts';
import { generateSigningKeys, loadOrCreateSigningKeys } from './keys.ts';
import { loadOrCreateAdminCredential } from './admin-credential.ts';
import { hashSecret, verifySecret } from './secrets.ts';
import { signToken, verifyToken } from './tokens.ts';

const opts = { issuer: 'urn:test', audience: 'urn:test:api' };
const t0 = new Date('2026-01-01T00:00:00Z');

describe('signing keys and admin credential', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-keys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the signing key on first start with mode 0600 and reuses it afterwards', async () => {
    const a = await loadOrCreateSigningKeys(dir);
    const file = join(dir, 'keys', 'signing-key.jwk.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const b = await loadOrCreateSigningKeys(dir);
    assert.equal(b.kid, a.kid);
    const token = await signToken(a, { kind: 'system', subject: 's', scopes: [] }, { ...opts, now: t0, ttlSeconds: 60 });
    const actor = await verifyToken(b, token.access_token, { ...opts, now: t0 });
    assert.equal(actor.subject, 's');
  });

  it('creates the admin credential once, mode 0600', () => {
    const a = loadOrCreateAdminCredential(dir);
    assert.equal(statSync(join(dir, 'admin.json')).mode & 0o777, 0o600);
    assert.deepEqual(loadOrCreateAdminCredential(dir), a);
    assert.ok(a.clientSecret.length >= 40);
  });
});

describe('client secrets', () => {
  it('verifies the right secret against its scrypt hash and rejects another', async () => {
    const h = await hashSecret('s3cret');
    assert.match(h, /^scrypt\$/);
    assert.ok(!h.includes('s3cret'));
    assert.equal(await verifySecret('s3cret', h), true);
    assert.equal(await verifySecret('s3cret!', h), false);
  });
});

describe('access tokens', async () => {
  const keys = await generateSigningKeys();
  const claims = { kind: 'user' as const, subject: 'dr-li', role: 'clinician' as const, institutionId: 'i1', scopes: ['user/*.read'] };

  async function rejects(token: string, now: Date, why: RegExp, o = opts) {
    await assert.rejects(verifyToken(keys, token, { ...o, now }), (e: unknown) => e instanceof AuthError && e.status === 401 && why.test(e.message));
  }

  it('returns the actor a valid token speaks for', async () => {
    const { access_token, expires_in, scope } = await signToken(keys, claims, { ...opts, now: t0, ttlSeconds: 600 });
    assert.equal(expires_in, 600);
    assert.equal(scope, 'user/*.read');
    const actor = await verifyToken(keys, access_token, { ...opts, now: new Date(t0.getTime() + 599_000) });
    assert.deepEqual(actor, { kind: 'user', subject: 'dr-li', role: 'clinician', institutionId: 'i1', scopes: ['user/*.read'] });
  });

  it('rejects an expired token', async () => {
    const { access_token } = await signToken(keys, claims, { ...opts, now: t0, ttlSeconds: 60 });
    await rejects(access_token, new Date(t0.getTime() + 61_000), /expired/);
  });

  it('rejects a token signed by another key', async () => {
    const other = await generateSigningKeys();
    const { access_token } = await signToken(other, claims, { ...opts, now: t0, ttlSeconds: 60 });
    await rejects(access_token, t0, /signature/);
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const { access_token } = await signToken(keys, claims, { ...opts, now: t0, ttlSeconds: 60 });
    const [h, p, s] = access_token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    payload.scope = 'user/*.write';
    await rejects([h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.'), t0, /signature/);
  });

  it('rejects a token for another audience or from another issuer', async () => {
    const { access_token } = await signToken(keys, claims, { ...opts, now: t0, ttlSeconds: 60 });
    await rejects(access_token, t0, /aud/, { ...opts, audience: 'urn:elsewhere' });
    await rejects(access_token, t0, /iss/, { ...opts, issuer: 'urn:elsewhere' });
  });

  it('rejects a correctly signed JWT that is not a platform access token', async () => {
    const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(opts.issuer).setAudience(opts.audience)
      .setSubject('x').setExpirationTime(Math.floor(t0.getTime() / 1000) + 60).sign(keys.privateKey);
    await rejects(jwt, t0, /not a HealthBrain/);
  });

  it('rejects garbage', async () => {
    await rejects('not.a.jwt', t0, /malformed/);
  });
});
