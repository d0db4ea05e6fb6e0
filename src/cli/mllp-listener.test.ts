import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openTestPlatform, type TestPlatform } from '../api/testing.ts';
import type { Running } from './listeners.ts';
import { mllpListener } from './mllp-listener.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/mllp-tls/${name}`, import.meta.url));
const adt = (id: string, msh8: string) =>
  `MSH|^~\\&|EMR|NORTH|HEALTHBRAIN|REGION|20240301083000|${msh8}|ADT^A04^ADT_A01|${id}|P|2.5.1\rPID|1||M${id}^^^NORTH^MR||Wang^Wu||19800101|M`;

/** A TLS client with the county hospital's certificate; resolves with the first ACK, or with null when closed first. */
function sendOverTls(port: number, text: string): Promise<{ ack: string | null; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let ack: string | null = null;
    const s = tls.connect({ port, host: '127.0.0.1', ca: readFileSync(fixture('ca.pem')), servername: 'localhost', cert: readFileSync(fixture('county-hosp.pem')), key: readFileSync(fixture('county-hosp.key')) });
    s.once('secureConnect', () => text && s.write(`\x0b${text}\x1c\r`));
    s.on('data', (d: Buffer) => {
      ack = d.toString().slice(1, -2);
      if (text) s.end();
    });
    s.on('close', () => resolve({ ack, closedAfterMs: Date.now() - started }));
    s.on('error', reject);
  });
}

describe(`serve --mllp-port with --mllp-tls-* and --mllp-idle-seconds on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let running: Running;
  let port: number;
  let auth: { authorization: string };
  before(async () => {
    p = await openTestPlatform({ env: { MLLP_PORT: '0' } });
    auth = { authorization: `Bearer ${await p.adminToken()}` };
    running = (await mllpListener.start(p.deps, { mllpTlsCert: fixture('server.pem'), mllpTlsKey: fixture('server.key'), mllpTlsCa: fixture('ca.pem'), mllpIdleSeconds: '1' }))!;
    port = Number(/:(\d+)$/.exec(running.description ?? '')![1]);
  });
  after(async () => {
    await running.close();
    await p.close();
  });

  it('lands a message from a sender registered through the operator API with its certificate and a generated MSH-8 secret', async () => {
    const inst = await p.addInstitution('North Hospital');
    assert.match(running.description ?? '', /over TLS/);
    const reg = await p.app.inject({
      method: 'POST', url: '/admin/hl7-senders', headers: auth,
      payload: { institution: inst.code, msh3: 'EMR', msh4: 'NORTH', cert_fingerprint: new X509Certificate(readFileSync(fixture('county-hosp.pem'))).fingerprint256, generate_secret: true },
    });
    assert.equal(reg.statusCode, 201, reg.body);
    const { secret, has_secret, cert_fingerprint } = reg.json();
    assert.equal(has_secret, true);
    assert.match(cert_fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const listed = (await p.app.inject({ method: 'GET', url: '/admin/hl7-senders', headers: auth })).json();
    assert.equal(JSON.stringify(listed).includes(secret), false, 'the secret is never listed');
    assert.match((await sendOverTls(port, adt('N-1', secret))).ack ?? '', /\rMSA\|AA\|N-1/);
    assert.match((await sendOverTls(port, adt('N-2', 'a-guess-at-the-secret'))).ack ?? '', /\rMSA\|AR\|N-2\|MSH-8 does not hold the shared secret/);
    const mllp = (await p.app.inject({ method: 'GET', url: '/admin/ingest', headers: auth })).json().mllp;
    assert.equal(mllp.refused['secret-wrong'], 1);
    assert.equal(mllp.recent_refusals[0].msh4, 'NORTH');
  });

  it('refuses a registration with a malformed address, fingerprint or secret with 400 and the reason', async () => {
    const inst = await p.addInstitution();
    for (const [payload, reason] of [
      [{ addresses: ['10.0.0.0/33'] }, /not an IP address or CIDR block/],
      [{ addresses: ['hospital.example'] }, /not an IP address or CIDR block/],
      [{ cert_fingerprint: 'AB:CD' }, /not a SHA-256 certificate fingerprint/],
      [{ secret: 'short' }, /16 to 40 characters/],
    ] as const) {
      const res = await p.app.inject({ method: 'POST', url: '/admin/hl7-senders', headers: auth, payload: { institution: inst.code, msh3: 'X', msh4: 'Y', ...payload } });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.match(res.json().issue[0].details.text, reason);
    }
  });

  it('closes a connection silent for --mllp-idle-seconds', async () => {
    const { ack, closedAfterMs } = await sendOverTls(port, '');
    assert.equal(ack, null);
    assert.ok(closedAfterMs >= 900 && closedAfterMs < 3000, `closed after ${closedAfterMs} ms`);
  });
});
