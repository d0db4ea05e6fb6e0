import iconv from 'iconv-lite';

/** The encodings the platform detects: UTF-8, or the GB 18030 family (GBK is its two-byte subset). */
export type TextEncoding = 'utf-8' | 'gb18030';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function hasUtf8Bom(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
}

/**
 * Detects the encoding of bytes from a sender that may not say: valid UTF-8 is UTF-8; anything else is taken as
 * GB 18030/GBK, the only other encoding Chinese health systems send (HL7 MSH-18 'GB 18030' or nothing at all).
 * `sample` bytes suffice for a file: a GBK text has invalid UTF-8 in its first Chinese character. A sample cut in
 * the middle of a UTF-8 sequence is not held against it.
 */
export function detectEncoding(bytes: Uint8Array, sample = bytes.length): TextEncoding {
  let view = bytes.subarray(0, Math.min(sample, bytes.length));
  if (view.length < bytes.length) view = trimPartialUtf8(view);
  try {
    utf8.decode(view);
    return 'utf-8';
  } catch {
    return 'gb18030';
  }
}

/** Drops a UTF-8 sequence cut at the end of a sample (up to 3 bytes) so the sample can be validated. */
function trimPartialUtf8(b: Uint8Array): Uint8Array {
  for (let back = 1; back <= 3 && back <= b.length; back++) {
    const byte = b[b.length - back];
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    if (byte >= 0xc0) {
      const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return need > back ? b.subarray(0, b.length - back) : b;
    }
    return b;
  }
  return b;
}

/** Decodes bytes in a detected encoding, dropping a UTF-8 byte-order mark. */
export function decodeText(bytes: Uint8Array, encoding: string): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (encoding === 'utf-8') return (hasUtf8Bom(buf) ? buf.subarray(3) : buf).toString('utf8');
  return iconv.decode(buf, encoding === 'gbk' ? 'gb18030' : encoding);
}

export function encodeText(text: string, encoding: string): Buffer {
  return encoding === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, encoding === 'gbk' ? 'gb18030' : encoding);
}

/** The text of a landed unit, for standardizers: `decodeUnit(unit)` = its verbatim bytes in their detected encoding. */
export function decodeUnit(unit: { content: Uint8Array; encoding: string }): string {
  return decodeText(unit.content, unit.encoding);
}
