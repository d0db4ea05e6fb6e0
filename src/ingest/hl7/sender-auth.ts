import { timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { encodeText } from '../encoding.ts';
import { secretDigest, type Hl7Sender, type SenderRegistry } from './senders.ts';

/** How an MLLP connection reached us: its source address and, over TLS, the client certificate it presented. */
export interface MllpPeer {
  address: string;
  tls: boolean;
  /** SHA-256 fingerprint of the client certificate (colon-separated upper-case hex), when one was presented. */
  certFingerprint?: string;
}

/** Why a message's sender was refused; the stable keys of the operators' refusal counters. */
export type SenderRefusal =
  | 'unknown-sender' | 'unbound-sender' | 'address-not-allowed' | 'certificate-required' | 'certificate-mismatch'
  | 'facility-mismatch' | 'secret-missing' | 'secret-wrong';

/** The sender's MSH fields that identify it (MSH-3, MSH-4) and prove it (MSH-8 Security). */
export interface SenderClaim {
  msh3: string;
  msh4: string;
  msh8: string;
}

/** IPv4-mapped IPv6 (`::ffff:10.1.2.3`, how a dual-stack listener sees IPv4 clients) as plain IPv4. */
export function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(?=\d+\.)/i, '');
}

// Built once per loaded sender (the registry's reload makes new sender objects, so a change is seen).
const blockLists = new WeakMap<Hl7Sender, net.BlockList>();

function allowed(sender: Hl7Sender, address: string): boolean {
  const family = net.isIP(address);
  if (!family) return false;
  let list = blockLists.get(sender);
  if (list) return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  list = new net.BlockList();
  for (const entry of sender.allowedAddresses) {
    const [addr, prefix] = entry.split('/');
    const family = net.isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(prefix), family);
  }
  blockLists.set(sender, list);
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

// The secret last proven per loaded sender: its next messages compare bytes instead of hashing (SM3 ~8 µs a message).
const proven = new WeakMap<Hl7Sender, Buffer>();

function sameSecret(sender: Hl7Sender, given: string): boolean {
  const g = encodeText(given, 'utf-8');
  const known = proven.get(sender);
  if (known && known.length === g.length && timingSafeEqual(known, g)) return true;
  const a = encodeText(secretDigest(given), 'utf-8');
  const b = encodeText(sender.secretHash ?? '', 'utf-8');
  const ok = a.length === b.length && timingSafeEqual(a, b);
  if (ok) proven.set(sender, g);
  return ok;
}

/**
 * Authenticates the sender of one MLLP message (GB/T 22239 level 3, identification of the communicating party): the
 * MSH-3/MSH-4 it claims must be a registered sender, and the connection must be the one that sender is bound to —
 * from an address of its allowlist, with its client certificate if it has one (and a certificate bound to one
 * institution cannot send as another's facility), with its shared secret in MSH-8 if it has one. A sender with
 * neither an allowlist nor a certificate can send only over HTTP, with its institution's token. Returns the refusal
 * and its reason (for MSA-3), or undefined when the sender is who it says.
 */
export function refuseSender(
  sender: Hl7Sender | undefined, claim: SenderClaim, peer: MllpPeer, senders: Pick<SenderRegistry, 'institutionsOfCertificate'>,
): { refusal: SenderRefusal; reason: string } | undefined {
  const who = `MSH-3 '${claim.msh3}' MSH-4 '${claim.msh4}'`;
  const address = plainAddress(peer.address);
  if (!sender) return { refusal: 'unknown-sender', reason: `unknown sender: ${who} is not registered` };
  if (peer.certFingerprint) {
    const bound = senders.institutionsOfCertificate(peer.certFingerprint);
    if (bound.size && !bound.has(sender.institutionId)) {
      return { refusal: 'facility-mismatch', reason: `${who} belongs to another institution than this connection's client certificate` };
    }
  }
  if (sender.certFingerprint) {
    if (!peer.certFingerprint) return { refusal: 'certificate-required', reason: `sender ${who} must connect over TLS with its client certificate` };
    if (peer.certFingerprint !== sender.certFingerprint) {
      return { refusal: 'certificate-mismatch', reason: `the client certificate of this connection is not the one registered for ${who}` };
    }
  } else if (!sender.allowedAddresses.length) {
    return { refusal: 'unbound-sender', reason: `sender ${who} has no MLLP binding (address allowlist or client certificate): send over HTTP or register one` };
  }
  if (sender.allowedAddresses.length && !allowed(sender, address)) {
    return { refusal: 'address-not-allowed', reason: `sender ${who} may not send from ${address}` };
  }
  if (sender.secretHash) {
    if (!claim.msh8) return { refusal: 'secret-missing', reason: `sender ${who} must carry its shared secret in MSH-8` };
    if (!sameSecret(sender, claim.msh8)) return { refusal: 'secret-wrong', reason: `MSH-8 does not hold the shared secret of ${who}` };
  }
  return undefined;
}

/**
 * The message's bytes with MSH-8 emptied, for a sender whose MSH-8 carries its shared secret: the landing store keeps
 * what arrived verbatim except the credential. The field is cut out of the bytes themselves (its offset found by
 * encoding the text before it), so every other byte stays as sent; should the bytes not line up with the text (they
 * always do for valid UTF-8 and GB 18030), the text is re-encoded without the secret rather than keeping it.
 */
export function withoutMsh8(bytes: Buffer, text: string, encoding: string): Buffer {
  const fs = text[3];
  let at = 3;
  // text[3] is MSH-1 itself, the separator before MSH-2; each next one starts the next field, up to MSH-8.
  for (let n = 3; n <= 8 && at >= 0; n++) at = text.indexOf(fs, at + 1);
  const segmentEnd = text.search(/[\r\n]/);
  if (at < 0 || (segmentEnd >= 0 && at > segmentEnd)) return bytes;
  let end = text.indexOf(fs, at + 1);
  if (end < 0 || (segmentEnd >= 0 && end > segmentEnd)) end = segmentEnd >= 0 ? segmentEnd : text.length;
  if (end === at + 1) return bytes; // MSH-8 already empty
  const bom = encoding === 'utf-8' && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const from = bom + encodeText(text.slice(0, at + 1), encoding).length;
  const value = encodeText(text.slice(at + 1, end), encoding);
  if (bytes.subarray(from, from + value.length).equals(value)) {
    return Buffer.concat([bytes.subarray(0, from), bytes.subarray(from + value.length)]);
  }
  return encodeText(text.slice(0, at + 1) + text.slice(end), encoding);
}
