import { strict as assert } from 'node:assert';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../../test/support/db.ts';
import type { Db } from '../../store/index.ts';
import { createIngest, type Ingest } from '../service.ts';
import { addHl7Sender } from './senders.ts';

const VT = Buffer.of(0x0b);
const END = Buffer.of(0x1c, 0x0d);
const adt = (id: string) =>
  [`MSH|^~\\&|HIS|COUNTY-HOSP|HEALTHBRAIN|REGION|20240301083000||ADT^A01^ADT_A01|${id}|P|2.5.1`, `PID|1||MRN${id}^^^COUNTY-HOSP^MR||Zhang^San||19500101|M`].join('\r');
const framed = (...parts: Array<string | Buffer>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
const msa = (ack: string) => ack.split('\r').find((s) => s.startsWith('MSA|'))?.split('|') ?? [];

/** A real client connection that collects ACK frames and notices when the server closes it. */
function open(port: number) {
  const acks: string[] = [];
  let buf: Buffer = Buffer.alloc(0);
  let wake = () => {};
  const socket = net.connect(port, '127.0.0.1');
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    let end: number;
    while ((end = buf.indexOf(END)) >= 0) {
      acks.push(buf.subarray(1, end).toString('utf8'));
      buf = buf.subarray(end + 2);
    }
    wake();
  });
  socket.on('error', () => {});
  const ready = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return {
    acks, closed, socket,
    send: async (bytes: Buffer) => {
      await ready;
      socket.write(bytes);
    },
    /** Resolves with the first `n` ACKs; rejects after 4 s (a hang), or when the server closes without them. */
    waitAcks: (n: number) =>
      new Promise<string[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`hung: ${acks.length} of ${n} ACKs after 4 s`)), 4000);
        const check = () => {
          if (acks.length >= n) return clearTimeout(timer), resolve(acks.slice(0, n));
        };
        wake = check;
        check();
        void closed.then(() => setTimeout(() => (clearTimeout(timer), acks.length >= n ? resolve(acks.slice(0, n)) : reject(new Error(`closed after ${acks.length} of ${n} ACKs`))), 20));
      }),
  };
}

describe(`MLLP framing errors over a real socket on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let db: Db;
  let ingest: Ingest;
  let port: number;
  const IDLE_MS = 1500;
  const stored = async (controlId: string) =>
    (await db.query<{ n: number }>(`SELECT count(*) AS n FROM landed_unit WHERE meta->>'controlId' = $1`, [controlId])).rows[0].n;

  before(async () => {
    db = await openTestDb();
    await addHl7Sender(db, { institutionId: 'county-hosp', msh3: 'HIS', msh4: 'COUNTY-HOSP', allowedAddresses: ['127.0.0.1'] });
    ingest = createIngest(db, { runWorker: false });
    port = (await ingest.startMllp(0, '127.0.0.1', { idleMs: IDLE_MS, frameTimeoutMs: 300, maxFrame: 4096 })).port;
  });
  after(async () => {
    await ingest.close();
    await db.close();
  });

  it('answers a frame cut by a second VT with AR (MSA-2 = its MSH-10) and acknowledges the frame that VT began', async () => {
    const c = open(port);
    await c.send(framed(VT, adt('CUT-VT'), VT, adt('AFTER-VT'), END));
    const [cut, next] = await c.waitAcks(2);
    assert.deepEqual(msa(cut).slice(0, 3), ['MSA', 'AR', 'CUT-VT']);
    assert.match(msa(cut)[3], /start block \(VT, 0x0B\) arrived inside a frame/);
    assert.deepEqual(msa(next).slice(0, 3), ['MSA', 'AA', 'AFTER-VT']);
    assert.deepEqual([await stored('CUT-VT'), await stored('AFTER-VT')], [0, 1]);
    c.socket.end();
  });

  it('answers a frame ended by FS without CR with AR and reads on', async () => {
    const c = open(port);
    await c.send(framed(VT, adt('FS-ONLY'), Buffer.of(0x1c), VT, adt('FS-NEXT'), END));
    const [bad, next] = await c.waitAcks(2);
    assert.deepEqual(msa(bad).slice(0, 2), ['MSA', 'AR']);
    assert.equal(msa(bad)[2], 'FS-ONLY');
    assert.match(msa(bad)[3], /FS \(0x1C\) is not followed by CR/);
    assert.deepEqual(msa(next).slice(1, 3), ['AA', 'FS-NEXT']);
    c.socket.end();
  });

  it('answers an oversized frame with AR naming the limit, drops it, and keeps the connection for the next frame', async () => {
    const c = open(port);
    const huge = adt('HUGE-1') + '\rNTE|1||' + 'x'.repeat(10_000);
    await c.send(framed(VT, huge, END, VT, adt('AFTER-HUGE'), END));
    const [big, next] = await c.waitAcks(2);
    assert.deepEqual(msa(big).slice(1, 3), ['AR', 'HUGE-1']);
    assert.match(msa(big)[3], /larger than 4096 bytes/);
    assert.deepEqual(msa(next).slice(1, 3), ['AA', 'AFTER-HUGE']);
    assert.equal(await stored('HUGE-1'), 0);
    c.socket.end();
  });

  it('answers an unframed message with AR once the sender goes quiet, MSA-2 its MSH-10', async () => {
    const c = open(port);
    await c.send(Buffer.from(adt('NO-FRAME') + '\r'));
    const [ack] = await c.waitAcks(1);
    assert.deepEqual(msa(ack).slice(1, 3), ['AR', 'NO-FRAME']);
    assert.match(msa(ack)[3], /outside an MLLP frame/);
    c.socket.end();
  });

  it('answers a frame left open (no FS CR) with AR after the frame timeout instead of waiting forever', async () => {
    const c = open(port);
    await c.send(framed(VT, adt('OPEN-1')));
    const [ack] = await c.waitAcks(1);
    assert.deepEqual(msa(ack).slice(1, 3), ['AR', 'OPEN-1']);
    assert.match(msa(ack)[3], /no end block \(FS CR\) arrived/);
    assert.equal(await stored('OPEN-1'), 0);
    c.socket.end();
  });

  it('closes the connection when stray bytes hold no message to answer, and counts it', async () => {
    const before = ingest.mllpCounters.snapshot();
    const c = open(port);
    await c.send(framed(Buffer.from([0xde, 0xad, 0xbe, 0xef]), VT, adt('AFTER-JUNK'), END));
    await c.closed;
    assert.equal(c.acks.length, 0);
    const now = ingest.mllpCounters.snapshot();
    assert.equal((now.closed['framing-error'] ?? 0) - (before.closed['framing-error'] ?? 0), 1);
    assert.equal((now.framing['bytes-outside-frame'] ?? 0) - (before.framing['bytes-outside-frame'] ?? 0), 1);
  });

  it('closes a silent connection after the idle timeout, but not one that keeps sending', async () => {
    const silent = open(port);
    const busy = open(port);
    const opened = Date.now();
    await silent.send(Buffer.alloc(0));
    for (let i = 0; i < 4; i++) {
      await busy.send(framed(VT, adt(`KEEP-${i}`), END));
      await busy.waitAcks(i + 1);
      await new Promise((r) => setTimeout(r, IDLE_MS / 2));
    }
    const closedAt = await silent.closed;
    assert.ok(closedAt - opened >= IDLE_MS - 100 && closedAt - opened < IDLE_MS + 1500, `closed after ${closedAt - opened} ms`);
    assert.equal(busy.socket.destroyed, false, 'the connection that kept sending is still open');
    assert.ok((ingest.mllpCounters.snapshot().closed['idle-timeout'] ?? 0) >= 1);
    busy.socket.end();
  });
});
