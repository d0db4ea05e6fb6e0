/** MLLP framing bytes (HL7 v2.5.1 Appendix C, Minimal Lower Layer Protocol): VT message FS CR. */
export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;
const LF = 0x0a;

/**
 * Incremental MLLP de-framer for a socket: `push` a chunk, get the complete frames' contents (bytes between VT and
 * FS CR). Bytes outside frames are ignored, as the MLLP spec allows. Unlike re-concatenating the whole buffer on
 * every chunk, it only keeps the unfinished tail, so a sender streaming thousands of frames costs linear time.
 */
export class MllpDeframer {
  #tail: Buffer = Buffer.alloc(0);
  /** Largest frame accepted; a sender that never closes a frame cannot exhaust memory. */
  readonly maxFrame: number;

  constructor(maxFrame = 16 * 1024 * 1024) {
    this.maxFrame = maxFrame;
  }

  push(chunk: Buffer): Buffer[] {
    const buf = this.#tail.length ? Buffer.concat([this.#tail, chunk]) : chunk;
    const frames: Buffer[] = [];
    let at = 0;
    for (;;) {
      const start = buf.indexOf(VT, at);
      if (start < 0) {
        at = buf.length;
        break;
      }
      let end = buf.indexOf(FS, start + 1);
      while (end >= 0 && end + 1 < buf.length && buf[end + 1] !== CR) end = buf.indexOf(FS, end + 1);
      if (end < 0 || end + 1 >= buf.length) {
        at = start;
        break;
      }
      frames.push(buf.subarray(start + 1, end));
      at = end + 2;
    }
    this.#tail = Buffer.from(buf.subarray(at));
    if (this.#tail.length > this.maxFrame) throw new Error(`MLLP frame larger than ${this.maxFrame} bytes`);
    return frames;
  }

  /** Bytes of an unfinished frame (a truncated message when the connection closes). */
  get pending(): number {
    return this.#tail.length;
  }
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
