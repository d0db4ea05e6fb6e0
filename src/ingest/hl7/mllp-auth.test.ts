import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../../test/support/db.ts';
import type { Db } from '../../store/index.ts';
import { createIngest, type Ingest } from '../service.ts';
import { startMllpServer, type MllpServer } from './mllp-server.ts';
import { addHl7Sender } from './senders.ts';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/mllp-tls/${name}`, import.meta.url));
const fingerprint = (pem: string) => new X509Certificate(fixture(pem)).fingerprint256;
const SECRET = 'S3cret-for-tests-0001';

const adt = (id: string, app: string, facility: string, msh8 = '') =>
  [`MSH|^~\\&|${app}|${facility}|HEALTHBRAIN|REGION|20240301083000|${msh8}|ADT^A01^ADT_A01|${id}|P|2.5.1`, `PID|1||MRN${id}^^^${facility}^MR||Li^Si||19700101|F`].join('\r');
const frame = (text: string) => Buffer.concat([Buffer.of(0x0b), Buffer.from(text), Buffer.of(0x1c, 0x0d)]);
const msa = (ack: string) => ack.split('\r').find((s) => s.startsWith('MSA|'))?.split('|') ?? [];

/** Landed bytes as sent: the landing store may seal them at rest (SM4), unsealed when the database carries its keys. */
const asSent = (db: Db, content: Uint8Array): Buffer =>
  Buffer.from((db as unknown as { crypto?: { unseal(b: Uint8Array): Uint8Array } }).crypto?.unseal(content) ?? content);

/** Sends framed messages on a fresh connection (plain or TLS) and collects one ACK per message. */
function exchange(connect: () => net.Socket, texts: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const acks: string[] = [];
    let buf: Buffer = Buffer.alloc(0);
    const s = connect();
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`got ${acks.length} of ${texts.length} ACKs`))), 5000);
    s.once(s instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => s.write(Buffer.concat(texts.map(frame))));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      let end: number;
      while ((end = buf.indexOf(Buffer.of(0x1c, 0x0d))) >= 0) {
        acks.push(buf.subarray(1, end).toString('utf8'));
        buf = buf.subarray(end + 2);
      }
      if (acks.length >= texts.length) clearTimeout(timer), s.end(), resolve(acks);
    });
    s.on('error', (err) => (clearTimeout(timer), reject(err)));
    s.on('close', () => (clearTimeout(timer), reject(new Error(`closed after ${acks.length} of ${texts.length} ACKs`))));
  });
}

describe(`MLLP sender authentication on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let db: Db;
  let ingest: Ingest;
  let port: number;
  let secure: MllpServer;
  const plain = () => net.connect(port, '127.0.0.1');
  const overTls = (client?: string) => () =>
    tls.connect({
      port: secure.port, host: '127.0.0.1', ca: fixture('ca.pem'), servername: 'localhost',
      ...(client ? { cert: fixture(`${client}.pem`), key: fixture(`${client}.key`) } : {}),
    });
  const stored = async (controlId: string) =>
    (await db.query<{ institution_id: string }>(`SELECT institution_id FROM landed_unit WHERE meta->>'controlId' = $1`, [controlId])).rows.map((r) => r.institution_id);

  before(async () => {
    db = await openTestDb();
    await addHl7Sender(db, { institutionId: 'county-hosp', msh3: 'HIS', msh4: 'COUNTY-HOSP', allowedAddresses: ['127.0.0.0/8'] });
    await addHl7Sender(db, { institutionId: 'town-clinic', msh3: 'LIS', msh4: 'TOWN', allowedAddresses: ['10.9.0.0/16'] });
    await addHl7Sender(db, { institutionId: 'county-hosp', msh3: 'OLD', msh4: 'COUNTY-HOSP' });
    await addHl7Sender(db, { institutionId: 'county-hosp', msh3: 'SEC', msh4: 'COUNTY-HOSP', allowedAddresses: ['127.0.0.1'], secret: SECRET });
    await addHl7Sender(db, { institutionId: 'county-hosp', msh3: 'CERT', msh4: 'COUNTY-HOSP', certFingerprint: fingerprint('county-hosp.pem') });
    await addHl7Sender(db, { institutionId: 'town-clinic', msh3: 'CERT', msh4: 'TOWN', certFingerprint: fingerprint('town-clinic.pem') });
    ingest = createIngest(db, { runWorker: false });
    port = (await ingest.startMllp(0, '127.0.0.1')).port;
    secure = await startMllpServer(
      { senders: ingest.senders, land: ingest.land },
      { port: 0, host: '127.0.0.1', tls: { cert: fixture('server.pem'), key: fixture('server.key'), ca: fixture('ca.pem') }, counters: ingest.mllpCounters },
    );
  });
  after(async () => {
    await secure.close();
    await ingest.close();
    await db.close();
  });

  it('accepts a sender from an address inside its CIDR allowlist and refuses one outside it, storing nothing as that hospital', async () => {
    const [ok, outside] = await exchange(plain, [adt('NET-1', 'HIS', 'COUNTY-HOSP'), adt('NET-2', 'LIS', 'TOWN')]);
    assert.equal(msa(ok)[1], 'AA');
    assert.deepEqual(msa(outside).slice(1, 3), ['AR', 'NET-2']);
    assert.match(msa(outside)[3], /may not send from 127\.0\.0\.1/);
    assert.deepEqual(await stored('NET-1'), ['county-hosp']);
    assert.deepEqual(await stored('NET-2'), []);
  });

  it('refuses over MLLP a sender registered with neither an allowlist nor a certificate (an unknown client claiming its MSH-4)', async () => {
    const [ack] = await exchange(plain, [adt('OLD-1', 'OLD', 'COUNTY-HOSP')]);
    assert.deepEqual(msa(ack).slice(1, 3), ['AR', 'OLD-1']);
    assert.match(msa(ack)[3], /no MLLP binding/);
    assert.deepEqual(await stored('OLD-1'), []);
  });

  it('asks a sender with a shared secret for it in MSH-8 and lands its message without the secret, every other byte as sent', async () => {
    const acks = await exchange(plain, [
      adt('SEC-1', 'SEC', 'COUNTY-HOSP'), adt('SEC-2', 'SEC', 'COUNTY-HOSP', 'not-the-secret-0000'), adt('SEC-3', 'SEC', 'COUNTY-HOSP', SECRET),
      adt('SEC-4', 'SEC', 'COUNTY-HOSP', SECRET.slice(0, -1) + 'X'), // after the right one (remembered), a near miss still fails
    ]);
    assert.deepEqual(acks.map((a) => msa(a).slice(1, 3)), [['AR', 'SEC-1'], ['AR', 'SEC-2'], ['AA', 'SEC-3'], ['AR', 'SEC-4']]);
    assert.match(msa(acks[0])[3], /must carry its shared secret in MSH-8/);
    assert.match(msa(acks[1])[3], /MSH-8 does not hold the shared secret/);
    const { rows } = await db.query<{ content: Uint8Array; meta: { msh8Removed?: boolean } }>(`SELECT content, meta FROM landed_unit WHERE meta->>'controlId' = 'SEC-3'`);
    assert.equal(asSent(db, rows[0].content).toString(), adt('SEC-3', 'SEC', 'COUNTY-HOSP'));
    assert.equal(rows[0].meta.msh8Removed, true);
    assert.deepEqual([...(await stored('SEC-1')), ...(await stored('SEC-2')), ...(await stored('SEC-4'))], []);
  });

  it('binds a TLS sender to its client certificate: its own is accepted, another institution\'s facility or another certificate refused', async () => {
    const [own, otherFacility] = await exchange(overTls('county-hosp'), [adt('TLS-1', 'CERT', 'COUNTY-HOSP'), adt('TLS-2', 'CERT', 'TOWN')]);
    assert.equal(msa(own)[1], 'AA');
    assert.deepEqual(msa(otherFacility).slice(1, 3), ['AR', 'TLS-2']);
    assert.match(msa(otherFacility)[3], /another institution than this connection's client certificate/);
    // A certificate the CA issued but no sender is bound to (the server's own, used as a client's).
    const [unbound] = await exchange(overTls('server'), [adt('TLS-3', 'CERT', 'COUNTY-HOSP')]);
    assert.match(msa(unbound)[3], /not the one registered for MSH-3 'CERT' MSH-4 'COUNTY-HOSP'/);
    const [noTls] = await exchange(plain, [adt('TLS-4', 'CERT', 'COUNTY-HOSP')]);
    assert.match(msa(noTls)[3], /must connect over TLS with its client certificate/);
    assert.deepEqual(await stored('TLS-1'), ['county-hosp']);
    for (const id of ['TLS-2', 'TLS-3', 'TLS-4']) assert.deepEqual(await stored(id), [], id);
  });

  it('fails the TLS handshake of a client certificate the configured CA did not issue, and counts it', async () => {
    const before = ingest.mllpCounters.snapshot().closed['tls-handshake'] ?? 0;
    await assert.rejects(exchange(overTls('rogue'), [adt('ROGUE-1', 'CERT', 'COUNTY-HOSP')]));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((ingest.mllpCounters.snapshot().closed['tls-handshake'] ?? 0) - before, 1);
    assert.deepEqual(await stored('ROGUE-1'), []);
  });

  it('counts every refusal by reason and keeps the latest with who claimed what from where', async () => {
    await exchange(plain, [adt('UNK-1', 'ROGUE', 'COUNTY-HOSP')]);
    const { refused, recent_refusals } = ingest.mllpCounters.snapshot();
    for (const reason of ['unknown-sender', 'address-not-allowed', 'unbound-sender', 'secret-missing', 'secret-wrong', 'facility-mismatch', 'certificate-mismatch', 'certificate-required']) {
      assert.ok((refused[reason] ?? 0) >= 1, reason);
    }
    assert.deepEqual({ ...recent_refusals[0], at: undefined }, { reason: 'unknown-sender', msh3: 'ROGUE', msh4: 'COUNTY-HOSP', remote: '127.0.0.1', at: undefined });
  });
});
