/** MLLP framing bytes (HL7 v2.5.1 Appendix C, Minimal Lower Layer Protocol): VT message FS CR. */
export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;
const LF = 0x0a;

const SPACE = 0x20;
const TAB = 0x09;

/** What can be wrong with the bytes of an MLLP stream (HL7 v2.5.1 Appendix C: a frame is VT content FS CR). */
export type FramingError = 'start-inside-frame' | 'end-without-cr' | 'frame-too-large' | 'bytes-outside-frame' | 'incomplete-frame';

export const FRAMING_REASONS: Record<FramingError, string> = {
  'start-inside-frame': 'a start block (VT, 0x0B) arrived inside a frame before its end block (FS CR): the frame was cut off; resend it',
  'end-without-cr': 'the end block FS (0x1C) is not followed by CR (0x0D): a frame must end with FS CR',
  'frame-too-large': 'the frame is larger than the receiver accepts',
  'bytes-outside-frame': 'bytes outside an MLLP frame: a message must be sent as VT, the message, FS CR',
  'incomplete-frame': 'the frame was left open: no end block (FS CR) arrived in time',
};

/** A complete frame's content, or a framing error with the bytes it concerns (their start, for a large frame). */
export type MllpEvent = { kind: 'frame'; content: Buffer } | { kind: 'error'; error: FramingError; content: Buffer };

type State = 'outside' | 'garbage' | 'frame' | 'frame-fs' | 'discard' | 'discard-fs';

/** Bytes of a refused large frame kept to recover its MSH (for the NAK's MSA-2). */
const HEAD_KEPT = 64 * 1024;

/**
 * Incremental MLLP de-framer for a socket: `read` a chunk, get events — complete frames' contents (bytes between VT
 * and FS CR) and framing errors, each with the bytes it concerns so the receiver can still recover the message's
 * MSH-10 and answer a NAK. Whitespace between frames (CR, LF after FS CR, as many senders add) is allowed; anything
 * else outside a frame is an error. A frame is held as a list of chunks and each chunk is scanned once, so a large
 * frame or thousands of small ones cost linear time. `flush` ends an unfinished frame or run of stray bytes (the
 * receiver calls it when the sender has gone quiet), so nothing waits forever for an end block.
 */
export class MllpDeframer {
  /** Largest frame accepted; a sender that never closes a frame cannot exhaust memory. */
  readonly maxFrame: number;
  #state: State = 'outside';
  #parts: Buffer[] = [];
  #length = 0;

  constructor(maxFrame = 16 * 1024 * 1024) {
    this.maxFrame = maxFrame;
  }

  read(chunk: Buffer): MllpEvent[] {
    const out: MllpEvent[] = [];
    let i = 0;
    while (i < chunk.length) {
      switch (this.#state) {
        case 'outside': {
          const b = chunk[i];
          if (b === CR || b === LF || b === SPACE || b === TAB) i++;
          else if (b === VT) this.#begin('frame'), i++;
          else this.#begin('garbage');
          break;
        }
        case 'garbage': {
          const vt = chunk.indexOf(VT, i);
          this.#take(chunk.subarray(i, vt < 0 ? chunk.length : vt));
          if (vt >= 0 || this.#length > this.maxFrame) out.push(this.#end('bytes-outside-frame'));
          i = vt < 0 ? chunk.length : vt;
          break;
        }
        case 'frame': {
          const k = nextMark(chunk, i);
          this.#take(chunk.subarray(i, k < 0 ? chunk.length : k));
          if (k < 0) {
            i = chunk.length;
            if (this.#length > this.maxFrame) out.push(this.#end('frame-too-large', 'discard'));
          } else if (chunk[k] === VT) {
            out.push(this.#end('start-inside-frame', 'frame'));
            i = k + 1;
          } else {
            this.#state = 'frame-fs';
            i = k + 1;
          }
          break;
        }
        case 'frame-fs':
          if (chunk[i] === CR && this.#length > this.maxFrame) {
            out.push(this.#end('frame-too-large')); // it arrived whole, in one chunk
            i++;
          } else if (chunk[i] === CR) {
            out.push({ kind: 'frame', content: this.#content() });
            this.#state = 'outside';
            i++;
          } else out.push(this.#end('end-without-cr')); // the byte is read again outside a frame (VT: the next one)
          break;
        case 'discard': {
          const k = nextMark(chunk, i);
          if (k < 0) i = chunk.length;
          else if (chunk[k] === VT) this.#begin('frame'), (i = k + 1);
          else (this.#state = 'discard-fs'), (i = k + 1);
          break;
        }
        case 'discard-fs':
          this.#state = 'outside';
          if (chunk[i] === CR) i++;
          break;
      }
    }
    return out;
  }

  /** Ends what is unfinished: an open frame ('incomplete-frame') or stray bytes ('bytes-outside-frame'). */
  flush(): MllpEvent[] {
    if (this.#state === 'frame' || this.#state === 'frame-fs') return [this.#end('incomplete-frame')];
    if (this.#state === 'garbage') return [this.#end('bytes-outside-frame')];
    if (this.#state === 'discard-fs') this.#state = 'outside';
    return [];
  }

  /**
   * Frames only, for whole files and bodies (and ACK streams) rather than a live socket: the bytes of a frame cut by
   * a framing error are returned as a frame too (nothing in a file is dropped; its messages are checked one by one),
   * bytes between frames are ignored, and a frame over `maxFrame` throws.
   */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    for (const e of this.read(chunk)) {
      if (e.kind === 'frame') frames.push(e.content);
      else if (e.error === 'frame-too-large') throw new Error(`MLLP frame larger than ${this.maxFrame} bytes`);
      else if (e.error !== 'bytes-outside-frame' && e.content.length) frames.push(e.content);
    }
    return frames;
  }

  /** Bytes of an unfinished frame (a truncated message when the connection closes). */
  get pending(): number {
    return this.#state === 'frame' || this.#state === 'frame-fs' ? this.#length : 0;
  }

  /** True while a frame or a run of stray bytes is unfinished (the receiver then times it out). */
  get open(): boolean {
    return this.#state === 'frame' || this.#state === 'frame-fs' || this.#state === 'garbage';
  }

  #begin(state: State): void {
    this.#state = state;
    this.#parts = [];
    this.#length = 0;
  }

  #take(part: Buffer): void {
    if (!part.length) return;
    this.#parts.push(part);
    this.#length += part.length;
  }

  #content(): Buffer {
    // One part is a view of a socket chunk: copied, so the chunk is not retained with it.
    const c = this.#parts.length === 1 ? Buffer.from(this.#parts[0]) : Buffer.concat(this.#parts);
    this.#parts = [];
    this.#length = 0;
    return c;
  }

  #end(error: FramingError, next: State = 'outside'): MllpEvent {
    // A refused frame keeps only its head (enough for its MSH); a large one's rest is read and dropped ('discard').
    let content = this.#content();
    if (content.length > HEAD_KEPT) content = Buffer.from(content.subarray(0, HEAD_KEPT));
    this.#state = next;
    return { kind: 'error', error, content };
  }
}

/** Index of the next VT or FS at or after `from`, or -1. */
function nextMark(b: Buffer, from: number): number {
  const vt = b.indexOf(VT, from);
  const fs = b.indexOf(FS, from);
  return vt < 0 ? fs : fs < 0 ? vt : Math.min(vt, fs);
}

/**
 * Splits a body or file into HL7 messages, byte-exact: MLLP frames when the data is framed, and inside each frame (or
 * an unframed body) one message per `MSH` segment. Segment separators CR, LF or CRLF all work; a leading UTF-8 BOM
 * is dropped. Scanning bytes is safe for GBK/GB 18030 because CR and LF never occur inside a multi-byte character.
 */
export function splitMessages(data: Buffer): Buffer[] {
  const parts = data.includes(VT) ? new MllpDeframer(Number.MAX_SAFE_INTEGER).push(data) : [data];
  return parts.flatMap(splitOnMsh);
}

function splitOnMsh(part: Buffer): Buffer[] {
  let b = part;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  const starts: number[] = [];
  for (let i = 0; i + 3 < b.length; i++) {
    const lineStart = i === 0 || b[i - 1] === CR || b[i - 1] === LF;
    if (lineStart && b[i] === 0x4d && b[i + 1] === 0x53 && b[i + 2] === 0x48) starts.push(i);
    else if (i === 0 && b.length) starts.push(0); // content before any MSH: kept as its own (invalid) message
  }
  if (starts.length === 0 && b.length) starts.push(0);
  const out: Buffer[] = [];
  for (let k = 0; k < starts.length; k++) {
    const msg = trimSeparators(b.subarray(starts[k], k + 1 < starts.length ? starts[k + 1] : b.length));
    if (msg.length) out.push(msg);
  }
  return out;
}

/** Drops trailing segment separators and whitespace-only padding at the end of a message. */
function trimSeparators(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && (b[end - 1] === CR || b[end - 1] === LF || b[end - 1] === 0x20)) end--;
  return b.subarray(0, end);
}
