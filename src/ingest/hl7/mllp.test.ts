import { strict as assert } from 'node:assert';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';
import iconv from 'iconv-lite';
import { openTestDb } from '../../../test/support/db.ts';
import type { Db } from '../../store/index.ts';
import { feedCounts } from '../counts.ts';
import { createIngest, type Ingest } from '../service.ts';
import { addHl7Sender } from './senders.ts';

const adt = (id: string, opts: { sep?: string; app?: string; version?: string; name?: string; z?: boolean; type?: string } = {}) =>
  [
    `MSH|^~\\&|${opts.app ?? 'HIS'}|COUNTY-HOSP|HEALTHBRAIN|REGION|20240301083000||${opts.type ?? 'ADT^A01^ADT_A01'}|${id}|P|${opts.version ?? '2.4'}`,
    'EVN|A01|20240301083000',
    `PID|1||MRN${id}^^^COUNTY-HOSP^MR||${opts.name ?? 'Zhang^San'}||19500101|M`,
    'PV1|1|I|W1^101^1',
    ...(opts.z ? ['ZPI|1|VIP|local-extension'] : []),
  ].join(opts.sep ?? '\r');

/** Sends raw bytes over a socket and collects `count` ACK frames (for inputs a well-behaved client would refuse to send). */
function exchange(port: number, bytes: Buffer, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const acks: string[] = [];
    let buf: Buffer = Buffer.alloc(0);
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`got ${acks.length} of ${count} ACKs`))), 5000);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      let end: number;
      while ((end = buf.indexOf(Buffer.of(0x1c, 0x0d))) >= 0) {
        acks.push(buf.subarray(1, end).toString('utf8'));
        buf = buf.subarray(end + 2);
      }
      if (acks.length >= count) {
        clearTimeout(timer);
        s.end();
        resolve(acks);
      }
    });
    s.on('error', reject);
  });
}

const frame = (text: string | Buffer) => Buffer.concat([Buffer.of(0x0b), typeof text === 'string' ? Buffer.from(text) : text, Buffer.of(0x1c, 0x0d)]);
const seg = (ack: string, name: string) => ack.split('\r').find((s) => s.startsWith(name + '|'))?.split('|') ?? [];

/** Landed bytes as sent: the landing store may seal them at rest (SM4), unsealed when the database carries its keys. */
const asSent = (db: Db, content: Uint8Array): Buffer =>
  Buffer.from((db as unknown as { crypto?: { unseal(b: Uint8Array): Uint8Array } }).crypto?.unseal(content) ?? content);

/** Sends through @medplum/hl7's client and returns the ACK text. (The client bundles its own @medplum/core, hence the cast.) */
async function send(client: Hl7Client, text: string): Promise<string> {
  const ack = await client.sendAndWait(Hl7Message.parse(text) as never, { timeoutMs: 5000 });
  return ack.toString();
}

describe(`HL7 v2 over MLLP on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let db: Db;
  let ingest: Ingest;
  let port: number;
  let client: Hl7Client;
  const stored = async (controlId: string) =>
    (await db.query<{ n: number }>(`SELECT count(*) AS n FROM landed_unit WHERE meta->>'controlId' = $1`, [controlId])).rows[0].n;

  before(async () => {
    db = await openTestDb();
    // MLLP senders are bound to how they connect (issue 10): this one to the loopback address the tests send from.
    await addHl7Sender(db, { institutionId: 'county-hosp', msh3: 'HIS', msh4: 'COUNTY-HOSP', allowedAddresses: ['127.0.0.1'] });
    ingest = createIngest(db, { runWorker: false });
    port = (await ingest.startMllp(0, '127.0.0.1')).port;
    client = new Hl7Client({ host: '127.0.0.1', port });
  });
  after(async () => {
    await client.close();
    await ingest.close();
    await db.close();
  });

  it('answers AA with swapped MSH sender/receiver to a real MLLP client, after the message is landed', async () => {
    const ack = Hl7Message.parse(await send(client, adt('A-1')));
    assert.equal(ack.getAckType(), 'AA');
    const msh = ack.getSegment('MSH')!;
    assert.deepEqual([msh.getField(3).toString(), msh.getField(4).toString(), msh.getField(5).toString(), msh.getField(6).toString()], ['HEALTHBRAIN', 'REGION', 'HIS', 'COUNTY-HOSP']);
    assert.equal(msh.getComponent(9, 1), 'ACK');
    assert.equal(msh.getComponent(9, 2), 'A01');
    assert.equal(msh.getField(12).toString(), '2.4');
    assert.equal(ack.getSegment('MSA')!.getField(2).toString(), 'A-1');
    assert.equal(await stored('A-1'), 1);
  });

  it('acknowledges a re-sent message AA again but stores it once and counts it as a duplicate', async () => {
    assert.equal(seg(await send(client, adt('A-1')), 'MSA')[1], 'AA');
    assert.equal(await stored('A-1'), 1);
    const [c] = await feedCounts(db, { institution: 'county-hosp' });
    assert.equal(c.duplicates, 1);
    assert.equal(c.received, c.pending + c.duplicates + c.quarantined + c.standardized);
  });

  it('rejects an unknown sender with AR, the reason in MSA-3 and ERR-3 from table 0357, and stores nothing', async () => {
    const ack = Hl7Message.parse(await send(client, adt('U-1', { app: 'ROGUE' })));
    assert.equal(ack.getAckType(), 'AR');
    assert.match(ack.getSegment('MSA')!.getField(3).toString(), /unknown sender.*ROGUE/);
    // v2.4 puts the error in ERR-1 (ELD): the 0357 code sits in its fourth component.
    assert.match(ack.getSegment('ERR')!.toString(), /204&Unknown key identifier&HL70357/);
    assert.equal(await stored('U-1'), 0);
  });

  it('rejects a registered sender sending from an address outside its allowlist', async () => {
    await addHl7Sender(db, { institutionId: 'county-hosp', msh3: 'PACS', msh4: 'COUNTY-HOSP', allowedAddresses: ['10.1.2.3'] });
    ingest.senders.invalidate(); // as the operator API does after a registration
    const ack = await send(client, adt('ADDR-1', { app: 'PACS' }));
    assert.equal(seg(ack, 'MSA')[1], 'AR');
    assert.match(seg(ack, 'MSA')[3], /may not send from 127\.0\.0\.1/);
    assert.equal(await stored('ADDR-1'), 0);
  });

  it('accepts LF and CRLF segment separators, Z-segments and a UTF-8 BOM, keeping the bytes verbatim', async () => {
    for (const [id, sep] of [['LF-1', '\n'], ['CRLF-1', '\r\n']] as const) {
      assert.equal(seg(await send(client, adt(id, { sep, z: true })), 'MSA')[1], 'AA', id);
    }
    const { rows } = await db.query<{ content: Uint8Array }>(`SELECT content FROM landed_unit WHERE meta->>'controlId' = 'CRLF-1'`);
    assert.equal(asSent(db, rows[0].content).toString(), adt('CRLF-1', { sep: '\r\n', z: true }));
    const [bom] = await exchange(port, frame(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(adt('BOM-1'))])), 1);
    assert.equal(seg(bom, 'MSA')[1], 'AA');
    assert.equal(await stored('BOM-1'), 1);
  });

  it('detects GBK without MSH-18, answers in GBK, and lands the original GBK bytes', async () => {
    const gbkClient = new Hl7Client({ host: '127.0.0.1', port, encoding: 'gbk' });
    try {
      const text = adt('GBK-1', { name: '张^三丰' });
      assert.equal(seg(await send(gbkClient, text), 'MSA')[1], 'AA');
      const { rows } = await db.query<{ content: Uint8Array; encoding: string }>(`SELECT content, encoding FROM landed_unit WHERE meta->>'controlId' = 'GBK-1'`);
      assert.equal(rows[0].encoding, 'gb18030');
      assert.deepEqual(asSent(db, rows[0].content), iconv.encode(text, 'gbk'));
    } finally {
      await gbkClient.close();
    }
  });

  it('answers each of several messages in one frame and several pipelined frames, in order', async () => {
    const inOne = frame([adt('M-1'), adt('M-2'), adt('M-3')].join('\r'));
    const pipelined = Buffer.concat(['P-1', 'P-2', 'P-3', 'P-4'].map((id) => frame(adt(id, { sep: '\n' }))));
    const acks = await exchange(port, Buffer.concat([inOne, pipelined]), 7);
    assert.deepEqual(acks.map((a) => seg(a, 'MSA')[2]), ['M-1', 'M-2', 'M-3', 'P-1', 'P-2', 'P-3', 'P-4']);
    assert.ok(acks.every((a) => seg(a, 'MSA')[1] === 'AA'));
  });

  it('refuses binary data, wrong delimiters and a message truncated inside MSH with AR and the reason', async () => {
    const binary = Buffer.from([0x00, 0xff, 0x13, 0x37, 0x8a, 0x00, 0x01, 0x02, 0x03, 0x04]);
    const acks = await exchange(port, Buffer.concat([frame(binary), frame(adt('W-1').replace('MSH|^~\\&|', 'MSH|AB12|')), frame('MSH|^~\\&|HIS|COUNTY-HOSP|HB')]), 3);
    assert.deepEqual(acks.map((a) => seg(a, 'MSA')[1]), ['AR', 'AR', 'AR']);
    assert.match(seg(acks[0], 'MSA')[3], /does not begin with an MSH/);
    assert.match(seg(acks[1], 'MSA')[3], /invalid delimiters/);
    assert.match(seg(acks[2], 'MSA')[3], /MSH-9 message type is missing/);
    assert.equal(seg(acks[2], 'ERR')[3], '101^Required field missing^HL70357', 'v2.5.1 default ERR-3');
    // The MSH-truncated message names a known sender, so it is kept (quarantined); binary and bad delimiters are not.
    const { rows } = await db.query<{ n: number }>(`SELECT count(*) AS n FROM landed_unit WHERE reasons->0->>'code' = 'hl7-101' AND meta->>'messageType' = '^'`);
    assert.equal(rows[0].n, 1);
  });

  it('echoes MSH-10 in MSA-2 of the AR for invalid MSH-2 delimiters, so a standard @medplum/hl7 client gets its answer', async () => {
    // The client matches a reply to its request on MSA-2; with MSA-2 empty its sendAndWait times out.
    const ack = Hl7Message.parse(await send(client, adt('BAD-DELIM-1').replace('MSH|^~\\&|', 'MSH|^^^^|')));
    assert.equal(ack.getAckType(), 'AR');
    assert.equal(ack.getSegment('MSA')!.getField(2).toString(), 'BAD-DELIM-1');
    assert.match(ack.getSegment('MSA')!.getField(3).toString(), /invalid delimiters/);
    assert.deepEqual([ack.getSegment('MSH')!.getField(5).toString(), ack.getSegment('MSH')!.getField(6).toString()], ['HIS', 'COUNTY-HOSP']);
    assert.equal(await stored('BAD-DELIM-1'), 0);
  });

  it('lands a message from a known sender with a missing MSH-10 or unsupported version as quarantined, answering AR', async () => {
    const noId = adt('X').replace('|X|P|', '||P|');
    const v26 = adt('V26-1', { version: '2.6' });
    const acks = await exchange(port, Buffer.concat([frame(noId), frame(v26)]), 2);
    assert.match(seg(acks[0], 'MSA')[3], /MSH-10/);
    assert.match(seg(acks[1], 'MSA')[3], /version 2\.6/);
    assert.equal(seg(acks[1], 'ERR')[3], '203^Unsupported version id^HL70357');
    const { rows } = await db.query<{ status: string; code: string }>(
      `SELECT status, reasons->0->>'code' AS code FROM landed_unit WHERE meta->>'controlId' = 'V26-1' OR (meta->>'controlId' = '' AND meta->>'messageType' = 'ADT^A01') ORDER BY id`,
    );
    assert.deepEqual(rows, [{ status: 'quarantined', code: 'hl7-101' }, { status: 'quarantined', code: 'hl7-203' }]);
  });

  it('accepts ADT^A04/A08/A40, ORU^R01 and ORM^O01 in versions 2.3 to 2.5.1, and refuses an unsupported event with AR 201', async () => {
    const cases: Array<[string, string, string]> = [
      ['T-A04', 'ADT^A04', '2.3'], ['T-A08', 'ADT^A08', '2.3.1'], ['T-A40', 'ADT^A40^ADT_A39', '2.5'],
      ['T-ORU', 'ORU^R01', '2.5.1'], ['T-ORM', 'ORM^O01', '2.4'], ['T-A03', 'ADT^A03', '2.4'],
    ];
    const acks = await exchange(port, Buffer.concat(cases.map(([id, type, version]) => frame(adt(id, { type, version })))), cases.length);
    assert.deepEqual(acks.map((a) => seg(a, 'MSA')[1]), ['AA', 'AA', 'AA', 'AA', 'AA', 'AR']);
    assert.equal(seg(acks[5], 'ERR')[1], 'MSH^1^9^201&Unsupported event code&HL70357', 'v2.4: ERR-1 (ELD) segment^sequence^field^code');
    assert.equal(seg(acks[2], 'MSH')[8], 'ACK^A40^ACK');
  });

  it('does not acknowledge or store a message whose connection closes inside the frame', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.end(Buffer.concat([Buffer.of(0x0b), Buffer.from(adt('CUT-1').slice(0, 80))]), resolve));
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await stored('CUT-1'), 0);
  });
});
