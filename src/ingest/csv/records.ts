const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** One CSV record as it appeared in the file: its bytes (without the line terminator) and its 1-based line number. */
export interface RawRecord {
  bytes: Buffer;
  line: number;
}

/**
 * Splits a byte stream into CSV records (RFC 4180: a line break inside double quotes belongs to the field), without
 * decoding. Working on bytes keeps each row's original bytes for the landing store, and is safe for GBK/GB 18030
 * because LF, CR and '"' never occur inside their multi-byte characters. Memory is bounded by the longest record.
 */
export async function* csvRecords(source: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<RawRecord> {
  let tail: Buffer = Buffer.alloc(0);
  let quotes = 0; // quotes seen in the current unfinished record
  let scanned = 0; // bytes of `tail` already scanned for quotes
  let line = 1;
  for await (const piece of source) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    const buf = tail.length ? Buffer.concat([tail, chunk]) : chunk;
    let start = 0;
    let pos = scanned;
    for (;;) {
      const lf = buf.indexOf(LF, pos);
      const end = lf < 0 ? buf.length : lf;
      for (let q = buf.indexOf(QUOTE, pos); q >= 0 && q < end; q = buf.indexOf(QUOTE, q + 1)) quotes++;
      if (lf < 0) {
        scanned = buf.length - start;
        break;
      }
      pos = lf + 1;
      if (quotes % 2 === 1) continue; // the LF is inside a quoted field
      const stop = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
      const bytes = buf.subarray(start, stop);
      const first = line;
      line += countLf(bytes) + 1;
      if (bytes.length) yield { bytes, line: first };
      start = pos;
      quotes = 0;
    }
    tail = Buffer.from(buf.subarray(start));
  }
  const last = tail.length && tail[tail.length - 1] === CR ? tail.subarray(0, -1) : tail;
  if (last.length) yield { bytes: last, line };
}

function countLf(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(LF); i >= 0; i = b.indexOf(LF, i + 1)) n++;
  return n;
}

/** Splits one decoded record into fields (RFC 4180 quoting, `""` an escaped quote). */
export function parseFields(text: string, delimiter: string): string[] {
  if (!text.includes('"')) return text.split(delimiter);
  const out: string[] = [];
  let field = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += ch;
    } else if (ch === '"') inQuotes = true;
    else if (ch === delimiter) {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

/** The delimiter of a header line: the most frequent of comma, tab, pipe and semicolon. */
export function detectDelimiter(header: string): string {
  let best = ',';
  let bestCount = 0;
  for (const d of [',', '\t', '|', ';']) {
    const n = header.split(d).length - 1;
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}
