/**
 * Field encryption and blind indexes at rest (GB/T 39786-2021 §8.3 数据存储机密性, 密评): identifiers that name a
 * person — resident ID (GB 11643), phone, health-card number — are stored as SM4 ciphertext (GB/T 32907-2016, here
 * SM4-CTR with a random IV) with an HMAC-SM3 tag over version ‖ IV ‖ ciphertext (encrypt-then-MAC, so a changed byte
 * is detected, never decrypted into garbage), and searched through keyed blind indexes: HMAC-SM3 of the normalised
 * value under a separate key, truncated to 128 bits. The landing store's bytes are sealed the same way.
 *
 * String form: `sm4:<version>:<base64url(iv ‖ ciphertext ‖ tag16)>`; blind index: `bi:<32 hex>`; sealed bytes:
 * `HBE1` ‖ version (uint16 BE) ‖ iv(16) ‖ ciphertext ‖ tag(32). Node's OpenSSL provides sm4 and sm3.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { sm2 } from 'sm-crypto-v2';
import type { FieldKey, KeyRing } from './keyring.ts';

export const CIPHER_PREFIX = 'sm4:';
export const BLIND_PREFIX = 'bi:';
const SEAL_MAGIC = Buffer.from('HBE1', 'latin1');
const TAG = 16;
const SEAL_TAG = 32;

/** What a blind index is of: values of different kinds never collide. */
export type BlindKind = 'resident-id' | 'phone' | 'health-card' | 'passport' | (string & {});

export class FieldCrypto {
  readonly #ring: KeyRing;

  constructor(ring: KeyRing) {
    this.#ring = ring;
  }

  /** The field-key version new ciphertexts use. */
  get currentVersion(): number {
    return this.#ring.current;
  }

  #key(version: number): FieldKey {
    const k = this.#ring.field.get(version);
    if (!k) throw new Error(`field key version ${version} is not in the key ring (retired, or another data directory's key)`);
    return k;
  }

  /** SM4 ciphertext of `plain` under the current key (a new random IV each time). */
  encrypt(plain: string): string {
    const v = this.#ring.current;
    const k = this.#key(v);
    const iv = randomBytes(16);
    const c = createCipheriv('sm4-ctr', k.enc, iv);
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    const tag = createHmac('sm3', k.mac).update(String(v)).update(iv).update(ct).digest().subarray(0, TAG);
    return `${CIPHER_PREFIX}${v}:${Buffer.concat([iv, ct, tag]).toString('base64url')}`;
  }

  /** The plain text of a ciphertext from `encrypt`; throws on a changed or foreign ciphertext. */
  decrypt(token: string): string {
    const m = /^sm4:(\d+):([A-Za-z0-9_-]+)$/.exec(token);
    if (!m) throw new Error('not a field ciphertext');
    const v = Number(m[1]);
    const k = this.#key(v);
    const raw = Buffer.from(m[2], 'base64url');
    if (raw.length < 16 + TAG) throw new Error('field ciphertext too short');
    const iv = raw.subarray(0, 16);
    const ct = raw.subarray(16, raw.length - TAG);
    const tag = createHmac('sm3', k.mac).update(String(v)).update(iv).update(ct).digest().subarray(0, TAG);
    if (!timingSafeEqual(tag, raw.subarray(raw.length - TAG))) throw new Error('field ciphertext failed its integrity check');
    const d = createDecipheriv('sm4-ctr', k.enc, iv);
    return Buffer.concat([d.update(ct), d.final()]).toString('utf8');
  }

  /** `decrypt` for values that may still be plain (rows written before encryption, or never sensitive). */
  open(value: string): string {
    return isCiphertext(value) ? this.decrypt(value) : value;
  }

  /** The key version of a ciphertext (rotation: which rows still use an old key). */
  static versionOf(token: string): number | undefined {
    const m = /^sm4:(\d+):/.exec(token);
    return m ? Number(m[1]) : undefined;
  }

  /** Keyed blind index of an already normalised value: equal values give equal indexes, nothing else is revealed. */
  blindIndex(kind: BlindKind, normalized: string): string {
    return BLIND_PREFIX + createHmac('sm3', this.#ring.index).update(kind).update('\0').update(normalized).digest('hex').slice(0, 32);
  }

  /** Seals bytes (the landing store's verbatim messages) under the current key. */
  seal(bytes: Uint8Array): Buffer {
    const v = this.#ring.current;
    const k = this.#key(v);
    const iv = randomBytes(16);
    const c = createCipheriv('sm4-ctr', k.enc, iv);
    const ct = Buffer.concat([c.update(bytes), c.final()]);
    const head = Buffer.alloc(6);
    SEAL_MAGIC.copy(head, 0);
    head.writeUInt16BE(v, 4);
    const tag = createHmac('sm3', k.mac).update(head).update(iv).update(ct).digest();
    return Buffer.concat([head, iv, ct, tag]);
  }

  /** The bytes `seal` sealed; bytes without the seal's header (stored before encryption) are returned as they are. */
  unseal(stored: Uint8Array): Buffer {
    const buf = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    if (!isSealed(buf)) return buf;
    const head = buf.subarray(0, 6);
    const k = this.#key(buf.readUInt16BE(4));
    const iv = buf.subarray(6, 22);
    const ct = buf.subarray(22, buf.length - SEAL_TAG);
    const tag = createHmac('sm3', k.mac).update(head).update(iv).update(ct).digest();
    if (!timingSafeEqual(tag, buf.subarray(buf.length - SEAL_TAG))) throw new Error('sealed bytes failed their integrity check');
    const d = createDecipheriv('sm4-ctr', k.enc, iv);
    return Buffer.concat([d.update(ct), d.final()]);
  }

  /** HMAC-SM3 under the audit key (the keyed audit chain). */
  auditMac(...parts: string[]): string {
    const h = createHmac('sm3', this.#ring.audit);
    parts.forEach((p, i) => (i ? h.update('\n').update(p) : h.update(p)));
    return h.digest('hex');
  }

  /** SM2 signature (GB/T 32918, with SM3 and the default user id) of `data`, hex r‖s. */
  sign(data: string): string {
    return sm2.doSignature(data, this.#ring.sm2.privateKey, { hash: true, der: false });
  }

  /** The SM2 public key (hex, uncompressed) that verifies `sign`. */
  get publicKey(): string {
    return this.#ring.sm2.publicKey;
  }
}

/** Verifies an SM2 signature from `FieldCrypto.sign` with the public key alone (offline verifiers). */
export function verifySm2(data: string, signature: string, publicKey: string): boolean {
  try {
    return sm2.doVerifySignature(data, signature, publicKey, { hash: true, der: false });
  } catch {
    return false;
  }
}

export function isCiphertext(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(CIPHER_PREFIX);
}

export function isSealed(bytes: Uint8Array): boolean {
  return bytes.length >= 6 + 16 + SEAL_TAG && bytes[0] === 0x48 && bytes[1] === 0x42 && bytes[2] === 0x45 && bytes[3] === 0x31;
}
