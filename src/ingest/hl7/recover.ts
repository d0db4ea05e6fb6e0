import { decodeText, detectEncoding, encodeText } from '../encoding.ts';
import { buildAck, HL7_ERROR, type AckHeader } from './ack.ts';

const ALNUM_OR_SPACE = /[A-Za-z0-9\s]/;

/** True when MSH-1 (field separator) and MSH-2 (four encoding characters) are usable delimiters (HL7 v2.5.1 2.5.4). */
export function validDelimiters(fs: string, enc: string): boolean {
  const all = fs + enc;
  return fs.length === 1 && enc.length === 4 && new Set(all).size === 5 && !ALNUM_OR_SPACE.test(all);
}

/**
 * What an ACK needs from a message that could not be parsed as HL7 (bad delimiters, a frame cut by a framing error,
 * bytes outside a frame): the MSH fields found by scanning the raw text of its first MSH segment with the field
 * separator the message declares (MSH-1) — usually `|` while MSH-2 is the broken part. MSA-2 must echo MSH-10 whenever it can
 * be recovered (HL7 v2.5.1 2.9.2): a standard client (`@medplum/hl7`) matches replies on MSA-2 and otherwise never
 * sees its answer. Components are kept whole (the component separator may be the broken part); a value that holds a
 * segment terminator or is implausibly long (MSH-10 is at most 199 characters) is not recovered.
 */
export function recoverHeader(text: string): AckHeader {
  const start = text.startsWith('MSH') ? 0 : text.search(/(^|[\r\n])MSH/);
  if (start < 0) return {};
  const segment = text.slice(start).replace(/^[\r\n]/, '').split(/[\r\n]/, 1)[0];
  // MSH-1 is the byte right after 'MSH'; a letter, digit or space there cannot be a separator and nothing is recovered.
  const fs = segment[3] ?? '';
  if (!fs || ALNUM_OR_SPACE.test(fs)) return {};
  const fields = segment.split(fs); // fields[0] = 'MSH', fields[1] = MSH-2, fields[n - 1] = MSH-n
  const field = (n: number, max = 199) => {
    const v = (fields[n - 1] ?? '').trim();
    // The ACK is written with '|' (the message's own delimiters are not trusted): a value holding one is not echoed.
    return v.length <= max && !v.includes('|') ? v : undefined;
  };
  const version = field(12, 20);
  const trigger = field(9, 60)?.split(/[^A-Za-z0-9_]/)[1];
  return {
    sendingApp: field(3), sendingFacility: field(4), receivingApp: field(5), receivingFacility: field(6),
    controlId: field(10) || undefined,
    version: version && /^2\.\d(\.\d)?$/.test(version) ? version : undefined,
    trigger: trigger && /^[A-Z]\d\d$/.test(trigger) ? trigger : undefined,
  };
}

/**
 * The NAK for bytes a framing error cut off (HL7 v2.5.1 Appendix C): AR with the reason in MSA-3 and ERR, in the
 * bytes' own encoding, when their MSH-10 can be recovered — the sender then knows which message to resend.
 * Undefined when it cannot: nothing can be matched to a message, and the listener closes the connection instead.
 */
export function framingNak(content: Buffer, reason: string): Buffer | undefined {
  const encoding = detectEncoding(content);
  const header = recoverHeader(decodeText(content, encoding));
  if (!header.controlId) return undefined;
  return encodeText(buildAck(header, 'AR', { error: HL7_ERROR.segmentSequence, reason }), encoding);
}
