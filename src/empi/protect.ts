/**
 * The EMPI's identifying values at rest (密评, GB/T 39786 §8.3; issue 10): what of a resident ID, phone, passport,
 * identifier or health card the matcher stores, so that a dump of the empi_* tables holds none of them in clear while
 * matching decides exactly as it did on the clear values.
 *
 * - Display: SM4 ciphertext (`db.crypto.encrypt`, random IV) — golden record, PIX/PDQ output, review screens.
 * - Equality (exact comparison level, blocking keys `r:`/`p:`/`x:`, PIX/PDQ lookups, golden "most frequent"):
 *   keyed blind index `bi:<128 bits>` (HMAC-SM3, `db.crypto.blindIndex`). 2^-128 per pair: never a false equality.
 * - Fuzzy levels on keyed variants, compared position by position (no clear value needed):
 *   · one digit (Hamming distance 1): `rid_near[i]` = PRF of the ID with position i masked (`33052*199001011234`);
 *     two IDs differ in exactly one position iff they differ and agree on some `rid_near[i]` (the masked variant of
 *     position i of one can only equal the variant of the same position of the other: the mask is part of it).
 *   · adjacent transposition: `rid_swaps` = [PRF(ID), PRF(ID with positions i, i+1 swapped) for i = 1…17]; two
 *     different IDs are a transposition of each other iff one's `rid_swaps[1]` is among the other's swaps (a swap of
 *     two equal digits gives the ID itself, which only equals an identical ID — the exact level, decided first).
 *   · passport one character: `passport_near[i]` like `rid_near`, up to 20 positions (lengths differ: never equal).
 *   The variants' PRF is SM4 (GB/T 32907) on one packed 16-byte block under a key derived from the platform's
 *   blind-index key (HMAC-SM3 as KDF), one cipher per key ring: 36 HMACs per record cost ~0.3 ms of CPU, 36 SM4
 *   blocks ~2 µs. Truncated to 64 bits (16 hex): a false "one digit" needs two different IDs' variants of the same
 *   position to collide, 18 · 2^-64 ≈ 1e-18 per compared pair, ~1e-10 over the 10^8 blocked pairs of a province;
 *   transposition 17 · 2^-64 likewise. Row cost ~620 bytes per record with an ID (35 × 17-byte elements). No cheap
 *   guard before them (the clear SQL compared ID segments first): keyed segment tags would reveal more equalities,
 *   and on 50,000 random pairs of a county the variant comparisons measured within the noise of the statement.
 * - Birth date confirmed by the ID (golden quality): one boolean, `rid_dob`, computed from the clear values in memory.
 * - Region (the ID's first six digits, for a new person's health card number): in memory only, from the incoming
 *   Patient; batch paths decrypt the few IDs they need (`healthCardsFor`).
 *
 * An attacker with the database and not the keys learns equality patterns: which records share an ID, phone or
 * passport (the same blocks and indexes), which IDs are one digit or one swap apart, and the validity bit — not the
 * values (keyed: no dictionary attack over the ~10^3 IDs a birth date and village leave possible).
 */
import { createCipheriv, type Cipheriv } from 'node:crypto';
import type { FieldCrypto } from '../crypto/index.ts';
import type { Queryable } from '../store/index.ts';
import { residentIdCheckChar } from '../standards/gb11643.ts';

/** The crypto of the database `q` runs on (a Db, or one of its transactions); the EMPI cannot work without it. */
export function cryptoOf(q: Queryable): FieldCrypto {
  const c = q.crypto;
  if (!c) throw new Error('EMPI: this Queryable carries no crypto (use a Db or one of its transactions)');
  return c;
}

const RID_ALPHABET = '0123456789X*';
const PASSPORT_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*';

/** One SM4-ECB cipher per key ring, reused (ECB keeps no state between blocks: each update is independent). */
const prfs = new WeakMap<FieldCrypto, Cipheriv>();

function prfCipher(crypto: FieldCrypto): Cipheriv {
  let c = prfs.get(crypto);
  if (!c) {
    // 128 bits of HMAC-SM3 under the blind-index key, in its own domain: the SM4 key of the variants.
    const key = Buffer.from(crypto.blindIndex('empi-variant-prf-key', 'sm4').slice(3), 'hex');
    c = createCipheriv('sm4-ecb', key, null);
    c.setAutoPadding(false);
    prfs.set(crypto, c);
  }
  return c;
}

/** Packs a resident-ID-shaped string (18 of 0-9, X, *) into one block after its domain byte: 4 bits a character. */
function packRid(block: Buffer, at: number, domain: number, s: string): void {
  block[at] = domain;
  for (let i = 0; i < s.length; i++) {
    const v = RID_ALPHABET.indexOf(s[i]) + 1;
    block[at + 1 + (i >> 1)] |= i & 1 ? v : v << 4;
  }
}

/** Packs a passport-shaped string (≤ 20 of A-Z, 0-9, *) into one block: 6 bits a character, 0 = end. */
function packPassport(block: Buffer, at: number, domain: number, s: string): void {
  block[at] = domain;
  let acc = 0n;
  for (let i = 0; i < 20; i++) acc = (acc << 6n) | BigInt(i < s.length ? PASSPORT_ALPHABET.indexOf(s[i]) + 1 : 0);
  for (let i = 15; i >= 1; i--) {
    block[at + i] = Number(acc & 0xffn);
    acc >>= 8n;
  }
}

/** The 64-bit PRF outputs (hex) of the packed blocks. */
function prf(crypto: FieldCrypto, blocks: Buffer): string[] {
  const out = prfCipher(crypto).update(blocks);
  const hex: string[] = [];
  for (let i = 0; i < out.length; i += 16) hex.push(out.toString('hex', i, i + 8));
  return hex;
}

const mask = (s: string, i: number) => s.slice(0, i) + '*' + s.slice(i + 1);
const swap = (s: string, i: number) => s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);

/** `rid_near` and `rid_swaps` of a normalised 18-character resident ID. */
export function residentIdVariants(crypto: FieldCrypto, id: string): { near: string[]; swaps: string[] } {
  const n = id.length;
  const blocks = Buffer.alloc(16 * (2 * n));
  for (let i = 0; i < n; i++) packRid(blocks, 16 * i, 1, mask(id, i));
  packRid(blocks, 16 * n, 2, id);
  for (let i = 0; i < n - 1; i++) packRid(blocks, 16 * (n + 1 + i), 2, swap(id, i));
  const all = prf(crypto, blocks);
  return { near: all.slice(0, n), swaps: all.slice(n) };
}

/** `passport_near` of a normalised passport number. */
export function passportVariants(crypto: FieldCrypto, passport: string): string[] {
  const blocks = Buffer.alloc(16 * passport.length);
  for (let i = 0; i < passport.length; i++) packPassport(blocks, 16 * i, 3, mask(passport, i));
  return prf(crypto, blocks);
}

/** Blind index of an identifier `system|value` (PIX lookups). */
export function identifierIndex(crypto: FieldCrypto, identifier: string): string {
  return crypto.blindIndex('identifier', identifier);
}

/** `system|value` with the value encrypted (the system stays readable: PIX target domains, known domains). */
export function encryptIdentifier(crypto: FieldCrypto, identifier: string): string {
  const bar = identifier.indexOf('|');
  return identifier.slice(0, bar + 1) + crypto.encrypt(identifier.slice(bar + 1));
}

/** The clear `system|value` of a stored identifier (one stored before encryption passes through). */
export function openIdentifier(crypto: FieldCrypto, stored: string): string {
  const bar = stored.indexOf('|');
  return stored.slice(0, bar + 1) + crypto.open(stored.slice(bar + 1));
}

/** A golden record with its protected values (resident ID, phone, passport) decrypted for display. */
export function openGolden<G extends Record<string, { value: string }>>(crypto: FieldCrypto, golden: G): G {
  const out: Record<string, { value: string }> = { ...golden };
  for (const f of ['residentId', 'phone', 'passport']) if (out[f]) out[f] = { ...out[f], value: crypto.open(out[f].value) };
  return out as G;
}

/**
 * The electronic health card number (电子健康卡) of person number `n`: 'HC', the issuing region (GB/T 2260, the first
 * six digits of the person's smallest valid resident ID, else 000000), the number on 11 digits, an ISO 7064 MOD 11-2
 * check character — the format the EMPI always issued (SQL `empi_mod11_2`, migration 0401).
 */
export function healthCardNumber(region: string, n: number | bigint): string {
  const d = region + String(n).padStart(11, '0');
  return `HC${d}${residentIdCheckChar(d)}`;
}

/** Person number of a person id `P0000000042`. */
export const personNumber = (personId: string) => BigInt(personId.slice(1));

/**
 * Issues the health card numbers of the persons without one (created set-based in SQL: batch dedupe, bulk registry),
 * `personSql` selecting their person_id: each person's region from its records' valid resident IDs (decrypted here:
 * the smallest, as the region always was), the number encrypted with its blind index. Returns how many.
 */
export async function issueHealthCards(q: Queryable, personSql: string): Promise<number> {
  const crypto = cryptoOf(q);
  const { rows } = await q.query<{ person_id: string; rids: string[] | null }>(
    // A join, not a subquery per person: right after a bulk load the planner's statistics may call empi_person empty.
    `WITH todo AS MATERIALIZED (SELECT p.person_id FROM empi_person p WHERE p.health_card IS NULL AND p.person_id IN (${personSql}))
     SELECT t.person_id, array_agg(r.resident_id) FILTER (WHERE r.resident_id_valid) AS rids
     FROM todo t LEFT JOIN empi_record r ON r.person_id = t.person_id GROUP BY t.person_id`,
  );
  if (!rows.length) return 0;
  const ids: string[] = [];
  const cards: string[] = [];
  const bis: string[] = [];
  for (const r of rows) {
    const plain = (r.rids ?? []).map((x) => crypto.open(x)).sort();
    const card = healthCardNumber(plain.length ? plain[0].slice(0, 6) : '000000', personNumber(r.person_id));
    ids.push(r.person_id);
    cards.push(crypto.encrypt(card));
    bis.push(crypto.blindIndex('health-card', card));
  }
  for (let i = 0; i < ids.length; i += 50_000) {
    await q.query(
      `UPDATE empi_person p SET health_card = x.card, health_card_bi = x.bi FROM unnest($1::text[], $2::text[], $3::text[]) AS x(pid, card, bi) WHERE p.person_id = x.pid`,
      [ids.slice(i, i + 50_000), cards.slice(i, i + 50_000), bis.slice(i, i + 50_000)],
    );
  }
  return ids.length;
}

/** The person numbers of `count` new persons, in order (the sequence the EMPI has always numbered persons from). */
export async function nextPersonNumbers(q: Queryable, count: number): Promise<bigint[]> {
  if (!count) return [];
  const { rows } = await q.query<{ n: string }>(`SELECT nextval('empi_person_seq')::text AS n FROM generate_series(1, $1::int)`, [count], { prepare: true });
  // Drawn in row order; sorted as numbers all the same (text order is not numeric order across a power of ten).
  return rows.map((r) => BigInt(r.n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A new person's id, and its health card number's ciphertext and blind index. */
export function newPersonIdentity(crypto: FieldCrypto, n: bigint, region: string): { personId: string; card: string; cardBi: string } {
  const card = healthCardNumber(region, n);
  return { personId: 'P' + String(n).padStart(10, '0'), card: crypto.encrypt(card), cardBi: crypto.blindIndex('health-card', card) };
}
