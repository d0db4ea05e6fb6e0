import { Hl7Message } from '@medplum/core';
import { decodeText, detectEncoding, encodeText } from '../encoding.ts';
import type { LandResult, QuarantineReason, UnitInput } from '../types.ts';
import { buildAck, HL7_ERROR, type AckCode, type AckHeader, type AckProblem } from './ack.ts';
import { recoverHeader, validDelimiters } from './recover.ts';
import { refuseSender, withoutMsh8, type MllpPeer, type SenderRefusal } from './sender-auth.ts';
import type { SenderRegistry } from './senders.ts';

/** HL7 v2 versions accepted (MSH-12). */
export const SUPPORTED_VERSIONS = ['2.3', '2.3.1', '2.4', '2.5', '2.5.1'];
/** Message types accepted (MSH-9.1^MSH-9.2), issue 4. */
export const SUPPORTED_TYPES = ['ADT^A01', 'ADT^A04', 'ADT^A08', 'ADT^A40', 'ORU^R01', 'ORM^O01'];

export const HL7_CONTENT_TYPE = 'x-application/hl7-v2+er7';

export interface Hl7Context {
  channel: 'hl7-mllp' | 'hl7-http';
  senders: SenderRegistry;
  /** Lands units; resolves after the landing transaction has committed (a LandingBatcher's `land`). */
  land: (units: UnitInput[]) => Promise<LandResult[]>;
  /**
   * HTTP: the institution of the bearer token. MLLP: undefined — the sender is recognised by MSH-3/MSH-4 and must be
   * authenticated by how it connected (`peer`, see sender-auth.ts).
   */
  institutionId?: string;
  peer?: MllpPeer;
}

/** One message's answer: the ACK bytes (in the message's own encoding) and what happened. */
export interface Hl7Reply {
  ack: Buffer;
  code: AckCode;
  unitId?: number;
  duplicate?: boolean;
  reason?: string;
  /** Set when the sender was refused (MLLP authentication): the operators' counter it goes to. */
  refusal?: SenderRefusal;
  /** MSH-3/MSH-4 as the message claimed them (for the refusal log). */
  claimed?: { msh3: string; msh4: string };
}

interface Checked {
  header: AckHeader;
  encoding: string;
  unit?: UnitInput;
  refusal?: SenderRefusal;
  claimed?: { msh3: string; msh4: string };
  /** The answer when the message is refused. */
  problem?: AckProblem;
}

/**
 * Receives HL7 v2 messages (each the verbatim bytes of one message) for one channel: identifies the sender, checks
 * MSH, lands every message that can be attributed to an institution — a message with a bad MSH-9/MSH-10/MSH-12 is
 * landed already quarantined, so nothing an institution sends is lost — and returns one ACK per message, in order,
 * only after the landing write committed (HL7 v2.5.1 chapter 2.9.2, original acknowledgment mode):
 * AA landed (also for a duplicate, which is not stored again); AR refused with MSA-3 + ERR (table 0357);
 * AE when the platform itself failed to land it (the sender should retry).
 */
export async function acceptHl7(ctx: Hl7Context, messages: Buffer[]): Promise<Hl7Reply[]> {
  const checked = await Promise.all(messages.map((m) => check(ctx, m)));
  const toLand = checked.filter((c) => c.unit);
  let results: LandResult[] = [];
  let failure: string | undefined;
  try {
    results = await ctx.land(toLand.map((c) => c.unit!));
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  }
  const byUnit = new Map(toLand.map((c, i) => [c, results[i]]));
  return checked.map((c) => {
    const landed = byUnit.get(c);
    if (c.unit && failure) {
      return reply(c, 'AE', { error: HL7_ERROR.internal, reason: `not stored, please resend: ${failure}` });
    }
    return reply(c, c.problem ? 'AR' : 'AA', c.problem, landed);
  });
}

function reply(c: Checked, code: AckCode, problem?: AckProblem, landed?: LandResult): Hl7Reply {
  return {
    ack: encodeText(buildAck(c.header, code, problem), c.encoding),
    code,
    unitId: landed?.id,
    duplicate: landed?.duplicate,
    reason: problem?.reason,
    ...(c.refusal ? { refusal: c.refusal, claimed: c.claimed } : {}),
  };
}

async function check(ctx: Hl7Context, bytes: Buffer): Promise<Checked> {
  const encoding = detectEncoding(bytes);
  const text = decodeText(bytes, encoding);
  if (!text.startsWith('MSH') || text.length < 9) {
    return { header: recoverHeader(text), encoding, problem: { error: HL7_ERROR.segmentSequence, reason: 'not an HL7 v2 message: it does not begin with an MSH segment', location: 'MSH^1' } };
  }
  if (text.includes('\u0000')) {
    // No HL7 v2 value holds NUL, and PostgreSQL cannot store it in text: refused here rather than failing later.
    return { header: recoverHeader(text), encoding, problem: { error: HL7_ERROR.dataType, reason: 'the message holds a NUL character (0x00), which no HL7 v2 value may hold', location: 'MSH^1' } };
  }
  const fieldSep = text[3];
  const encodingChars = text.slice(4, 8);
  if (!validDelimiters(fieldSep, encodingChars)) {
    // Refused unparsed, but MSA-2 still echoes MSH-10 when the raw text shows it (clients match replies on it).
    return { header: recoverHeader(text), encoding, problem: { error: HL7_ERROR.dataType, reason: `invalid delimiters in MSH-1/MSH-2: '${text.slice(3, 8)}'`, location: 'MSH^1^2' } };
  }
  const msg = Hl7Message.parse(text);
  const msh = msg.getSegment('MSH')!;
  const get = (field: number, component = 1) => msh.getComponent(field, component).trim();
  const header: AckHeader = {
    fieldSep, encodingChars,
    sendingApp: msh.getField(3)?.toString() ?? '', sendingFacility: msh.getField(4)?.toString() ?? '',
    receivingApp: msh.getField(5)?.toString() ?? '', receivingFacility: msh.getField(6)?.toString() ?? '',
    controlId: get(10), trigger: get(9, 2), version: get(12),
  };
  const msh3 = get(3);
  const msh4 = get(4);
  const sender = await ctx.senders.find(msh3, msh4);
  let institutionId = ctx.institutionId;
  if (!institutionId) {
    const refused = refuseSender(sender, { msh3, msh4, msh8: msh.getField(8)?.toString().trim() ?? '' }, ctx.peer ?? { address: '', tls: false }, ctx.senders);
    if (refused || !sender) {
      // Not stored as that hospital: nothing is landed for a sender that did not authenticate.
      const reason = refused?.reason ?? 'unknown sender';
      return { header, encoding, refusal: refused?.refusal ?? 'unknown-sender', claimed: { msh3, msh4 }, problem: { error: HL7_ERROR.unknownKey, reason, location: 'MSH^1^3' } };
    }
    institutionId = sender.institutionId;
  } else if (sender && sender.institutionId !== institutionId) {
    return { header, encoding, problem: { error: HL7_ERROR.unknownKey, reason: `MSH-3 '${msh3}' MSH-4 '${msh4}' is registered to another institution`, location: 'MSH^1^3' } };
  }
  // MSH-8 carries the sender's shared secret: the landed copy keeps every byte but that credential.
  const content = sender?.secretHash ? withoutMsh8(bytes, text, encoding) : bytes;
  const problem = validate(header, get(9, 1), get(9, 2));
  const declared = get(18);
  const meta: Record<string, unknown> = {
    messageType: `${get(9, 1)}^${get(9, 2)}`, controlId: header.controlId, version: header.version, msh3, msh4,
    ...(declared ? { declaredCharset: declared } : {}),
    ...(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? { bom: true } : {}),
    ...(content !== bytes ? { msh8Removed: true } : {}),
  };
  const quarantine: QuarantineReason[] | undefined = problem
    ? [{ code: `hl7-${problem.error.code}`, detail: problem.reason, element: problem.location?.replace(/^(\w+)\^1\^(\d+)$/, '$1-$2') }]
    : undefined;
  return {
    header, encoding, problem,
    unit: { institutionId, channel: ctx.channel, contentType: HL7_CONTENT_TYPE, encoding, content, meta, quarantine },
  };
}

/** MSH checks of HL7 v2.5.1 2.9.2: required MSH-9 and MSH-10, supported MSH-12 and message type. */
function validate(h: AckHeader, type: string, trigger: string): AckProblem | undefined {
  if (!type) return { error: HL7_ERROR.requiredFieldMissing, reason: 'MSH-9 message type is missing', location: 'MSH^1^9' };
  if (!h.controlId) return { error: HL7_ERROR.requiredFieldMissing, reason: 'MSH-10 message control id is missing', location: 'MSH^1^10' };
  if (!h.version) return { error: HL7_ERROR.requiredFieldMissing, reason: 'MSH-12 version id is missing', location: 'MSH^1^12' };
  if (!SUPPORTED_VERSIONS.includes(h.version)) {
    return { error: HL7_ERROR.unsupportedVersion, reason: `HL7 version ${h.version} is not supported (2.3 to 2.5.1)`, location: 'MSH^1^12' };
  }
  if (!SUPPORTED_TYPES.includes(`${type}^${trigger}`)) {
    const known = SUPPORTED_TYPES.some((t) => t.startsWith(type + '^'));
    return {
      error: known ? HL7_ERROR.unsupportedEvent : HL7_ERROR.unsupportedMessageType,
      reason: `message type ${type}^${trigger} is not supported (${SUPPORTED_TYPES.join(', ')})`,
      location: 'MSH^1^9',
    };
  }
  return undefined;
}
