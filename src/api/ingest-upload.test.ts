import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { ingestFor } from './ingest-runtime.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

const hl7 = (id: string) =>
  `MSH|^~\\&|LIS|TOWN-1|HB|REGION|20240301||ORU^R01^ORU_R01|${id}|P|2.5.1\rPID|1||M-${id}^^^TOWN-1^MR||王^小明\rOBR|1||L-${id}|GLU\rOBX|1|NM|GLU^葡萄糖^L||5.6|mmol/L\r`;
const file = (tag: string, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => hl7(`${tag}-${i}`)).join(''));

describe(`HL7 and CSV uploads over HTTP on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let url: string;
  let inst: Awaited<ReturnType<TestPlatform['addInstitution']>>;
  const received = async () => {
    const res = await p.app.inject({ method: 'GET', url: `/admin/feeds?institution=${inst.code}`, headers: { authorization: `Bearer ${await p.adminToken()}` } });
    return (res.json() as Array<{ received: number }>)[0].received;
  };
  before(async () => {
    p = await openTestPlatform();
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}`;
    inst = await p.addInstitution('上传测试医院');
  });
  after(() => p.close());

  it('answers a multi-MB upload of 15,000 messages in a form fetch reads: counts per ACK code in a header, every ACK in the body', async () => {
    const body = file('BIG', 15000);
    assert.ok(body.length > 2 * 1024 * 1024);
    const res = await fetch(`${url}/ingest/hl7`, { method: 'POST', headers: { authorization: `Bearer ${inst.token}`, 'content-type': 'x-application/hl7-v2+er7' }, body });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-hl7-ack-counts'), 'AA=15000');
    assert.equal(res.headers.get('x-hl7-ack-codes'), null);
    const msa = (await res.text()).split('\r').filter((s) => s.startsWith('MSA|'));
    assert.equal(msa.length, 15000);
    assert.equal(msa[14999], 'MSA|AA|BIG-14999|OK');
    assert.equal(await received(), 15000);
  });

  it('stops an upload under way at shutdown between chunks with 503 + Retry-After; what it landed stays landed and counted', async () => {
    const first = file('HALF-A', 6000);
    const rest = file('HALF-B', 6000);
    let more!: () => void;
    const sendRest = new Promise<void>((r) => (more = r));
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(first);
        await sendRest;
        controller.enqueue(rest);
        controller.close();
      },
    });
    const before = await received();
    const answer = fetch(`${url}/ingest/hl7`, {
      method: 'POST', headers: { authorization: `Bearer ${inst.token}`, 'content-type': 'x-application/hl7-v2+er7' }, body: stream, duplex: 'half',
    } as RequestInit);
    // The first chunks land (and are counted) before the rest of the body has even been sent.
    for (let i = 0; i < 400 && (await received()) === before; i++) await new Promise((r) => setTimeout(r, 50));
    const landed = (await received()) - before;
    assert.ok(landed > 0 && landed < 12000, `landed ${landed}`);
    ingestFor(p.deps).beginShutdown();
    more();
    const res = await answer;
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.match(await res.text(), /shutting down/);
    const after = (await received()) - before;
    assert.ok(after >= landed && after < 12000, `received ${after} of 12000`);
    // A new upload is refused at once, with nothing landed.
    const next = await fetch(`${url}/ingest/csv?table=patient`, { method: 'POST', headers: { authorization: `Bearer ${inst.token}`, 'content-type': 'text/csv' }, body: 'org_code\n' });
    assert.equal(next.status, 503);
    assert.ok(Number(next.headers.get('retry-after')) >= 1);
    assert.equal((await received()) - before, after);
  });
});
