/**
 * HL7 v2 acknowledgements (HL7 v2.5.1 chapter 2, 2.9 "Message processing rules" and 2.14.1 ACK): an ACK message
 * whose MSH swaps the sender and receiver of the original, MSA-1 the acknowledgment code, MSA-2 the original MSH-10,
 * and for errors an ERR segment with the HL7 table 0357 code.
 */

/** HL7 table 0357, message error condition codes (the ones this receiver uses). */
export const HL7_ERROR = {
  segmentSequence: { code: '100', text: 'Segment sequence error' },
  requiredFieldMissing: { code: '101', text: 'Required field missing' },
  dataType: { code: '102', text: 'Data type error' },
  unsupportedMessageType: { code: '200', text: 'Unsupported message type' },
  unsupportedEvent: { code: '201', text: 'Unsupported event code' },
  unsupportedVersion: { code: '203', text: 'Unsupported version id' },
  unknownKey: { code: '204', text: 'Unknown key identifier' },
  internal: { code: '207', text: 'Application internal error' },
} as const;

export type Hl7Error = (typeof HL7_ERROR)[keyof typeof HL7_ERROR];

export type AckCode = 'AA' | 'AE' | 'AR';

/** The parts of the original MSH an ACK needs; all optional because a broken message may lack them. */
export interface AckHeader {
  fieldSep?: string;
  encodingChars?: string;
  sendingApp?: string;
  sendingFacility?: string;
  receivingApp?: string;
  receivingFacility?: string;
  controlId?: string;
  trigger?: string;
  version?: string;
}

export interface AckProblem {
  error: Hl7Error;
  /** Human-readable reason, goes to MSA-3 and ERR-8 (ERR-1 text for v2.3/2.4). */
  reason: string;
  /** Location as SEG^seq^field, e.g. 'MSH^1^10'. */
  location?: string;
}

let counter = 0;

/** MSH-7 as an HL7 DTM with an explicit offset: the receiver's clock in UTC, unambiguous for any sender. */
function timestamp(now: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}+0000`;
}

/** Escapes text for an HL7 field (v2.5.1 2.7.4): the delimiters become \F\ \S\ \R\ \E\ \T\. */
export function escapeHl7(text: string, fs = '|', enc = '^~\\&'): string {
  const [cs, rs, esc, ss] = enc;
  let out = '';
  for (const ch of text.replace(/[\r\n]+/g, ' ')) {
    if (ch === esc) out += `${esc}E${esc}`;
    else if (ch === fs) out += `${esc}F${esc}`;
    else if (ch === cs) out += `${esc}S${esc}`;
    else if (ch === rs) out += `${esc}R${esc}`;
    else if (ch === ss) out += `${esc}T${esc}`;
    else out += ch;
  }
  return out;
}

/**
 * Builds the ACK text for one message (segments separated by CR). v2.5+ carries ERR-2 location, ERR-3 code
 * (CWE ^HL70357), ERR-4 severity and ERR-8 user message; v2.3/2.4 put the same in ERR-1 (ELD).
 */
export function buildAck(h: AckHeader, code: AckCode, problem?: AckProblem, now = new Date()): string {
  const fs = h.fieldSep && h.fieldSep.length === 1 ? h.fieldSep : '|';
  const enc = h.encodingChars && h.encodingChars.length >= 4 ? h.encodingChars.slice(0, 4) : '^~\\&';
  const [cs, , , ss] = enc;
  const version = h.version && /^2\.\d/.test(h.version) ? h.version : '2.5.1';
  const esc = (s: string) => escapeHl7(s, fs, enc);
  const msh = [
    'MSH', enc, h.receivingApp || 'HEALTHBRAIN', h.receivingFacility || 'HEALTHBRAIN', h.sendingApp ?? '', h.sendingFacility ?? '',
    timestamp(now), '', h.trigger ? `ACK${cs}${h.trigger}${cs}ACK` : 'ACK', `HB${now.getTime()}${(counter++ % 1000).toString().padStart(3, '0')}`,
    'P', version,
  ].join(fs);
  const text = problem ? esc(problem.reason) : code === 'AA' ? 'OK' : '';
  const msa = ['MSA', code, h.controlId ?? '', text].join(fs);
  if (!problem) return `${msh}\r${msa}`;
  const cwe = [problem.error.code, esc(problem.error.text), 'HL70357'].join(cs);
  const old = version.startsWith('2.3') || version.startsWith('2.4');
  const loc = (problem.location ?? '').split('^').join(cs);
  const err = old
    ? ['ERR', [...(loc ? loc.split(cs) : ['', '', '']).slice(0, 3), [problem.error.code, esc(problem.error.text), 'HL70357'].join(ss)].join(cs)].join(fs)
    : ['ERR', '', loc, cwe, 'E', '', '', '', esc(problem.reason)].join(fs);
  return `${msh}\r${msa}\r${err}`;
}
