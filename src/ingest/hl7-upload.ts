import { Unavailable } from '../store/index.ts';
import { acceptHl7, type Hl7Context, type Hl7Reply } from './hl7/accept.ts';
import { CR, FS, splitMessages, VT } from './hl7/frames.ts';

/** Bytes of an upload split and landed at a time: ~1,000 messages, one landing statement, others interleave between. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;
/** Largest single message accepted in an upload (one message cannot be cut into chunks). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** One message of an upload is larger than MAX_MESSAGE_BYTES: refused as a whole (413), nothing after it is read. */
export class Hl7MessageTooLarge extends Error {}

/**
 * Where `buf` can be cut so that every message before the cut is complete: after the last complete MLLP frame (FS CR)
 * when the upload is framed, else before the last MSH that begins a line. 0 when there is no such place yet.
 */
function cutPoint(buf: Buffer, framed: boolean): number {
  if (framed) {
    for (let end = buf.lastIndexOf(FS); end >= 0; end = end > 0 ? buf.lastIndexOf(FS, end - 1) : -1) {
      if (end + 1 < buf.length && buf[end + 1] === CR) return end + 2;
    }
    return 0;
  }
  const cr = buf.lastIndexOf('\rMSH');
  const lf = buf.lastIndexOf('\nMSH');
  return Math.max(cr, lf) + 1;
}

/**
 * Cuts an HL7 upload stream into parts of whole messages, ~`chunkBytes` each, split as `splitMessages` splits a whole
 * body (MLLP frames when the upload begins framed, else one message per MSH segment). Bounded memory: a chunk and the
 * unfinished message after it.
 */
export async function* hl7Chunks(source: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer>, chunkBytes = UPLOAD_CHUNK_BYTES): AsyncGenerator<Buffer[]> {
  let buf = Buffer.alloc(0);
  let framed: boolean | undefined;
  for await (const piece of source) {
    buf = buf.length ? Buffer.concat([buf, Buffer.from(piece)]) : Buffer.from(piece);
    // Framing is decided by how the upload begins (a whole body was framed if it held any VT; a streamed one is read
    // before its end is known).
    framed ??= buf.includes(VT) ? true : buf.length >= 64 ? false : undefined;
    if (buf.length < chunkBytes || framed === undefined) continue;
    const cut = cutPoint(buf, framed);
    if (cut > 0) {
      const part = buf.subarray(0, cut);
      buf = Buffer.from(buf.subarray(cut));
      yield splitMessages(part);
    } else if (buf.length > MAX_MESSAGE_BYTES) {
      throw new Hl7MessageTooLarge(`an HL7 message of the upload is larger than ${MAX_MESSAGE_BYTES / 1024 / 1024} MB`);
    }
  }
  if (buf.length) yield splitMessages(buf);
}

/** The answer to an HL7 upload: one reply per message, in order, and how many of each acknowledgment code. */
export interface Hl7UploadResult {
  replies: Hl7Reply[];
  counts: Record<string, number>;
}

/**
 * HL7 v2 over HTTP (a whole file of messages): read in chunks of whole messages, each landed (and so acknowledged)
 * before the next is read — back-pressure: a sender is not read faster than the platform lands, and other uploads'
 * chunks, MLLP messages and the worker's batches take turns with it on the database. Stops between chunks with
 * `Unavailable` once `stopping()` says the server is shutting down (what was landed stays landed; a re-send of it
 * is recognised as duplicates).
 */
export async function receiveHl7Upload(
  ctx: Hl7Context,
  body: AsyncIterable<Buffer | Uint8Array | string> | Iterable<Buffer>,
  stopping: () => boolean = () => false,
): Promise<Hl7UploadResult> {
  const replies: Hl7Reply[] = [];
  const counts: Record<string, number> = {};
  for await (const messages of hl7Chunks(body)) {
    if (stopping()) throw new Unavailable(`the server is shutting down: ${replies.length} message(s) of this upload were landed, send it again`, 10);
    for (const r of await acceptHl7(ctx, messages)) {
      replies.push(r);
      counts[r.code] = (counts[r.code] ?? 0) + 1;
    }
  }
  return { replies, counts };
}
