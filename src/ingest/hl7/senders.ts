import { createHash } from 'node:crypto';
import net from 'node:net';
import type { Queryable } from '../../store/index.ts';

export interface Hl7Sender {
  institutionId: string;
  /** MSH-3 sending application (HD namespace id). */
  msh3: string;
  /** MSH-4 sending facility (HD namespace id). */
  msh4: string;
  /** Source addresses or CIDR blocks it may send from over MLLP; empty: only with its client certificate. */
  allowedAddresses: string[];
  /** SM3 digest ('sm3:' + hex) of the shared secret it puts in MSH-8 (Security); none: no secret asked. */
  secretHash?: string;
  /** SHA-256 fingerprint (colon-separated upper-case hex) of the TLS client certificate it must present. */
  certFingerprint?: string;
}

export interface Hl7SenderInput {
  institutionId: string;
  msh3: string;
  msh4: string;
  allowedAddresses?: string[];
  /** The shared secret in clear (16 to 40 characters that need no HL7 escaping); only its digest is stored. */
  secret?: string;
  certFingerprint?: string;
}

/** A registration that cannot be stored as given (the operator API answers 400). */
export class Hl7SenderError extends Error {}

/** The stored form of a shared secret: its SM3 digest (GB/T 32905), compared in constant time. */
export function secretDigest(secret: string): string {
  return 'sm3:' + createHash('sm3').update(secret, 'utf8').digest('hex');
}

/** MSH-8 is ST (40 characters in v2.5.1) and must not hold the message's delimiters. */
const SECRET = /^[A-Za-z0-9._+/=-]{16,40}$/;

/** An address or CIDR block as stored: IPv4-mapped IPv6 written as IPv4, the prefix checked. */
export function normalizeAddress(entry: string): string {
  const [addr, prefix, extra] = entry.trim().replace(/^::ffff:(?=\d+\.)/i, '').split('/');
  const family = net.isIP(addr ?? '');
  const max = family === 4 ? 32 : 128;
  if (!family || extra !== undefined || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= max))) {
    throw new Hl7SenderError(`'${entry}' is not an IP address or CIDR block (e.g. 10.2.0.0/16, 192.168.1.20, fd00::/8)`);
  }
  return prefix === undefined ? addr : `${addr}/${Number(prefix)}`;
}

/** A certificate fingerprint as Node and `openssl x509 -fingerprint -sha256` print it, in one spelling. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.trim().replace(/^sha256\s*fingerprint\s*=\s*/i, '').replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new Hl7SenderError(`'${fp}' is not a SHA-256 certificate fingerprint (64 hex digits)`);
  return hex.match(/../g)!.join(':');
}

/**
 * Registers (or re-points) an HL7 sender: MSH-3 + MSH-4 → institution, with how it must connect over MLLP (address
 * allowlist, shared secret, client certificate). Idempotent; a re-registration replaces all of these.
 */
export async function addHl7Sender(db: Queryable, input: Hl7SenderInput): Promise<Hl7Sender> {
  if (!input.msh3 || !input.msh4) throw new Hl7SenderError('an HL7 sender needs both MSH-3 (application) and MSH-4 (facility)');
  if (input.secret !== undefined && !SECRET.test(input.secret)) {
    throw new Hl7SenderError('a sender secret is 16 to 40 characters of A-Z a-z 0-9 . _ + / = - (it travels in MSH-8, an ST field)');
  }
  const sender: Hl7Sender = {
    institutionId: input.institutionId, msh3: input.msh3, msh4: input.msh4,
    allowedAddresses: [...new Set((input.allowedAddresses ?? []).map(normalizeAddress))],
    ...(input.secret !== undefined ? { secretHash: secretDigest(input.secret) } : {}),
    ...(input.certFingerprint ? { certFingerprint: normalizeFingerprint(input.certFingerprint) } : {}),
  };
  await db.query(
    `INSERT INTO hl7_sender (msh3, msh4, institution_id, allowed_addresses, secret_hash, cert_fingerprint) VALUES ($1, $2, $3, $4::text[], $5, $6)
     ON CONFLICT (msh3, msh4) DO UPDATE SET institution_id = excluded.institution_id, allowed_addresses = excluded.allowed_addresses,
       secret_hash = excluded.secret_hash, cert_fingerprint = excluded.cert_fingerprint`,
    [sender.msh3, sender.msh4, sender.institutionId, sender.allowedAddresses, sender.secretHash ?? null, sender.certFingerprint ?? null],
  );
  return sender;
}

export async function listHl7Senders(db: Queryable, institutionId?: string): Promise<Hl7Sender[]> {
  const { rows } = await db.query<{ msh3: string; msh4: string; institution_id: string; allowed_addresses: string[]; secret_hash: string | null; cert_fingerprint: string | null }>(
    `SELECT msh3, msh4, institution_id, allowed_addresses, secret_hash, cert_fingerprint FROM hl7_sender
     WHERE $1::text IS NULL OR institution_id = $1 ORDER BY 1, 2`,
    [institutionId ?? null],
  );
  return rows.map((r) => ({
    msh3: r.msh3, msh4: r.msh4, institutionId: r.institution_id, allowedAddresses: r.allowed_addresses ?? [],
    ...(r.secret_hash ? { secretHash: r.secret_hash } : {}),
    ...(r.cert_fingerprint ? { certFingerprint: r.cert_fingerprint } : {}),
  }));
}

export async function removeHl7Sender(db: Queryable, msh3: string, msh4: string): Promise<boolean> {
  return (await db.query('DELETE FROM hl7_sender WHERE msh3 = $1 AND msh4 = $2', [msh3, msh4])).rowCount > 0;
}

/**
 * The sender table held in memory for the MLLP hot path (thousands of messages a second), reloaded every `ttlMs` and
 * — at most once a second — on a miss; the operator API invalidates it on registration, so a new sender is
 * recognised at once.
 */
export class SenderRegistry {
  readonly #db: Queryable;
  readonly #ttlMs: number;
  #map = new Map<string, Hl7Sender>();
  #byCertificate = new Map<string, Set<string>>();
  #loadedAt = 0;
  // Bumped by invalidate(): a load that began before a registration must neither be reused nor count as fresh,
  // or the new sender's first burst of messages is refused as unknown until the next reload.
  #generation = 0;
  #loading?: { generation: number; done: Promise<void> };

  constructor(db: Queryable, ttlMs = 5000) {
    this.#db = db;
    this.#ttlMs = ttlMs;
  }

  async find(msh3: string, msh4: string): Promise<Hl7Sender | undefined> {
    const key = msh3 + '\u0000' + msh4;
    const age = Date.now() - this.#loadedAt;
    if (age > this.#ttlMs || (!this.#map.has(key) && age > 1000)) await this.#reload();
    return this.#map.get(key);
  }

  /** Institutions whose senders are bound to this client certificate (as of the last load). */
  institutionsOfCertificate(fingerprint: string): ReadonlySet<string> {
    return this.#byCertificate.get(fingerprint) ?? new Set();
  }

  /** Forget the cached table (after a registration through the operator API), so the next message reloads it. */
  invalidate(): void {
    this.#generation++;
    this.#loadedAt = 0;
  }

  #reload(): Promise<void> {
    const generation = this.#generation;
    if (this.#loading?.generation === generation) return this.#loading.done;
    const startedAt = Date.now();
    const done = listHl7Senders(this.#db).then((all) => {
      if (generation < this.#generation) return this.#reload(); // invalidated while loading: this table may be stale
      this.#map = new Map(all.map((s) => [s.msh3 + '\u0000' + s.msh4, s]));
      this.#byCertificate = new Map();
      for (const s of all) if (s.certFingerprint) this.#byCertificate.set(s.certFingerprint, (this.#byCertificate.get(s.certFingerprint) ?? new Set()).add(s.institutionId));
      this.#loadedAt = startedAt;
    });
    const loading = { generation, done: done.finally(() => this.#loading === loading && (this.#loading = undefined)) };
    this.#loading = loading;
    return loading.done;
  }
}
