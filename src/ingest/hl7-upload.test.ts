import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { splitMessages } from './hl7/frames.ts';
import { hl7Chunks, Hl7MessageTooLarge, MAX_MESSAGE_BYTES } from './hl7-upload.ts';

const msg = (i: number, sep: string) =>
  [`MSH|^~\\&|LIS|TOWN-1|HB|REGION|20240301||ORU^R01^ORU_R01|C-${i}|P|2.5.1`, `PID|1||M${i}^^^TOWN-1^MR||王^小明`, `OBX|1|NM|GLU^葡萄糖^L||${i % 97}|mmol/L`].join(sep);

/** A body streamed as pieces of `size` bytes (what a socket delivers). */
async function* pieces(body: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < body.length; at += size) yield body.subarray(at, at + size);
}

async function collect(body: Buffer, pieceSize: number, chunkBytes: number): Promise<Buffer[][]> {
  const out: Buffer[][] = [];
  for await (const c of hl7Chunks(pieces(body, pieceSize), chunkBytes)) out.push(c);
  return out;
}

describe('HL7 uploads read in chunks of whole messages', () => {
  it('gives exactly the messages of the whole body, in order, byte for byte, in several bounded chunks (unframed, CR, LF, CRLF)', async () => {
    const seps = ['\r', '\n', '\r\n'];
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(Array.from({ length: 3000 }, (_, i) => msg(i, seps[i % 3]) + seps[i % 3]).join(''))]);
    const chunks = await collect(body, 7919, 64 * 1024);
    assert.ok(chunks.length > 5, `${chunks.length} chunks`);
    assert.deepEqual(chunks.flat(), splitMessages(body));
    for (const c of chunks) assert.ok(Buffer.concat(c).length < 2 * 64 * 1024);
  });

  it('gives exactly the frames of an MLLP-framed body, in order, whatever the piece boundaries', async () => {
    const body = Buffer.concat(Array.from({ length: 2000 }, (_, i) => Buffer.concat([Buffer.of(0x0b), Buffer.from(msg(i, '\r')), Buffer.of(0x1c, 0x0d)])));
    const chunks = await collect(body, 4093, 32 * 1024);
    assert.ok(chunks.length > 5);
    assert.deepEqual(chunks.flat(), splitMessages(body));
  });

  it('refuses a single message larger than the limit instead of buffering without bound', async () => {
    const huge = Buffer.concat([Buffer.from(msg(0, '\r') + '\rNTE|1||'), Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x41)]);
    await assert.rejects(collect(huge, 1024 * 1024, 1024 * 1024), Hl7MessageTooLarge);
  });
});
