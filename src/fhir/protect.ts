/**
 * Protected identifiers in the FHIR store (密评, GB/T 39786-2021 §8.3 数据存储机密性; issue 10): a person's resident ID
 * (GB 11643), passport, health-card number and phone numbers are SM4 ciphertext in `content` (current table and
 * history) and keyed blind indexes (HMAC-SM3 of the normalised value) in the search columns, so a dump of the
 * database names nobody while `identifier=`, `telecom=` and `phone=` searches keep working.
 *
 * Applied at the store's lowest points: every write goes through `applyWrites` (protectForStore), every read of
 * `content` through `openResource`, every search value through `searchForms`. The walk is generic — an Identifier or
 * a ContactPoint anywhere in a resource (Patient.contact.telecom, RelatedPerson, Practitioner, a logical reference's
 * identifier) is protected, not only Patient.identifier — because a missed element is a clear copy.
 */
import type { Resource } from '@medplum/fhirtypes';
import { isCiphertext, type FieldCrypto } from '../crypto/index.ts';
import type { Queryable } from '../store/index.ts';

/** Resident ID OIDs (exact: a local MRN system such as …1.330523A001.mrn shares the prefix), as the EMPI reads them. */
const RESIDENT_ID_OIDS = new Set(['urn:oid:2.16.156.10011.1.3', 'urn:oid:2.16.156.10011.1.1']);
/** Systems that name a person's national or travel identity, whatever the sender called them. */
const PERSON_ID_SYSTEM = /resident|id-?card|sfz|shenfenzheng|citizen|nnchn|passport|permanent-resident|foreigner|\bprc-pr\b/;
/** Our electronic health card (电子健康卡) numbers. */
const HEALTH_CARD_SYSTEM = 'urn:healthbrain:ehc';
/** v2-0203 identifier types of a person's identity documents: national ID (NNCHN, NI), 身份证 (CZ), passport (PPN). */
const PERSON_ID_TYPES = new Set(['NNCHN', 'NI', 'CZ', 'PPN']);
/** ContactPoint systems that are a person's number (phone, SMS-capable mobile). */
const PHONE_SYSTEMS = new Set(['phone', 'sms']);

/** Blind-index kinds: one for identity-document numbers (searched without a system too), one for phone numbers. */
export const IDENTIFIER_KIND = 'fhir-identifier';
export const PHONE_KIND = 'phone';

interface Valued {
  system?: unknown;
  value?: unknown;
  type?: { coding?: Array<{ code?: unknown }> };
}

/** Whether an Identifier names a person's identity document (resident ID, passport, health card). */
export function isProtectedIdentifier(id: Valued): boolean {
  const sys = typeof id.system === 'string' ? id.system.toLowerCase() : '';
  if (sys === HEALTH_CARD_SYSTEM || RESIDENT_ID_OIDS.has(sys) || PERSON_ID_SYSTEM.test(sys)) return true;
  return (id.type?.coding ?? []).some((c) => typeof c.code === 'string' && PERSON_ID_TYPES.has(c.code.toUpperCase()));
}

/** Identity-document numbers compared as written on the card: full-width folded, spaces and dashes dropped, x → X. */
export function normalizeIdentifierValue(v: string): string {
  return v.normalize('NFKC').replace(/[\s-]/g, '').toUpperCase();
}

/** Phone numbers compared by their digits: separators dropped, a +86 / 0086 country prefix of a mobile dropped. */
export function normalizePhoneValue(v: string): string {
  return v.normalize('NFKC').replace(/[^\d+]/g, '').replace(/^(?:\+|00)86(?=1\d{10}$)/, '');
}

type Kind = typeof IDENTIFIER_KIND | typeof PHONE_KIND;

/** What a `{system, value}` object is: a protected Identifier, a phone ContactPoint, or neither. */
function kindOf(node: Valued): Kind | undefined {
  if (typeof node.value !== 'string' || !node.value) return undefined;
  if (typeof node.system === 'string' && PHONE_SYSTEMS.has(node.system)) return PHONE_KIND;
  return isProtectedIdentifier(node) ? IDENTIFIER_KIND : undefined;
}

function blind(crypto: FieldCrypto, kind: Kind, plain: string): string {
  return crypto.blindIndex(kind, kind === PHONE_KIND ? normalizePhoneValue(plain) : normalizeIdentifierValue(plain));
}

/**
 * Copies `node` with every protected value replaced by `replace(kind, value)`; unchanged subtrees are shared, and
 * `node` itself is returned when nothing in it is protected (most clinical resources: no copy at all).
 */
function mapProtected(node: unknown, replace: (kind: Kind, value: string) => string): unknown {
  if (Array.isArray(node)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < node.length; i++) {
      const v = mapProtected(node[i], replace);
      if (v !== node[i]) (out ??= node.slice())[i] = v;
    }
    return out ?? node;
  }
  if (!node || typeof node !== 'object') return node;
  const obj = node as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  const kind = kindOf(obj);
  if (kind) out = { ...obj, value: replace(kind, obj.value as string) };
  for (const k in obj) {
    const v = obj[k];
    if (!v || typeof v !== 'object') continue;
    const m = mapProtected(v, replace);
    if (m !== v) (out ??= { ...obj })[k] = m;
  }
  return out ?? node;
}

/** The crypto of the database `q` runs on; the FHIR store never writes or searches protected values without it. */
export function cryptoOf(q: Queryable): FieldCrypto {
  const c = q.crypto;
  if (!c) throw new Error('FHIR store: this Queryable carries no crypto (use a Db or one of its transactions)');
  return c;
}

/**
 * A resource as stored: `content` with protected values as SM4 ciphertext (values already ciphertext kept), and the
 * `searchable` form the search columns are extracted from, with those values as blind indexes.
 */
export function protectForStore<T extends Resource>(crypto: FieldCrypto, resource: T): { content: T; searchable: T } {
  const content = mapProtected(resource, (_kind, v) => (isCiphertext(v) ? v : crypto.encrypt(v))) as T;
  if (content === resource) return { content, searchable: resource };
  const searchable = mapProtected(resource, (kind, v) => blind(crypto, kind, crypto.open(v))) as T;
  return { content, searchable };
}

/** A stored resource as the store's readers get it: protected values decrypted, in place (rows are fresh objects). */
export function openResource<T>(crypto: FieldCrypto, stored: T): T {
  openNode(openerOf(crypto), stored);
  return stored;
}

/**
 * Decrypted values by ciphertext, per key ring: a stored ciphertext (random IV: one per write) always opens to the
 * same value, so the Patients read again and again (searches, the record, $everything) pay SM4 + HMAC-SM3 once —
 * ~20 µs a value, more than the rest of a read's CPU. Bounded; the values are in this process's memory anyway while
 * it serves them. A rotated ring is a new FieldCrypto, so a new cache.
 */
const OPEN_CACHE_MAX = 20_000;
const openCaches = new WeakMap<FieldCrypto, (token: string) => string>();

function openerOf(crypto: FieldCrypto): (token: string) => string {
  let open = openCaches.get(crypto);
  if (!open) {
    const cache = new Map<string, string>();
    open = (token) => {
      let plain = cache.get(token);
      if (plain === undefined) {
        plain = crypto.decrypt(token);
        if (cache.size >= OPEN_CACHE_MAX) cache.clear();
        cache.set(token, plain);
      }
      return plain;
    };
    openCaches.set(crypto, open);
  }
  return open;
}

function openNode(open: (token: string) => string, node: unknown): void {
  if (Array.isArray(node)) {
    for (const x of node) if (x && typeof x === 'object') openNode(open, x);
    return;
  }
  const obj = node as Record<string, unknown>;
  for (const k in obj) {
    const v = obj[k];
    if (typeof v === 'string') {
      if (k === 'value' && isCiphertext(v)) obj[k] = open(v);
    } else if (v && typeof v === 'object') openNode(open, v);
  }
}

/** Params whose token values may be protected, and the blind-index kind of their values. */
const PROTECTED_PARAMS: Record<string, Kind> = { identifier: IDENTIFIER_KIND, telecom: PHONE_KIND, phone: PHONE_KIND };

/**
 * The stored forms a token search value matches: itself (rows written before encryption, unprotected identifiers
 * such as MRNs) and, for identifier/telecom/phone, its blind index (`system|bi:…` or `bi:…`), normalised as on write.
 * A system-only value (`system|`) is left to the prefix match.
 */
export function searchForms(crypto: FieldCrypto | undefined, paramCode: string, value: string): string[] {
  const kind = PROTECTED_PARAMS[paramCode];
  if (!kind || !crypto || value.endsWith('|')) return [value];
  const bar = value.indexOf('|');
  const system = bar >= 0 ? value.slice(0, bar) : '';
  const plain = bar >= 0 ? value.slice(bar + 1) : value;
  if (kind === PHONE_KIND && !normalizePhoneValue(plain)) return [value];
  const index = blind(crypto, kind, plain);
  return [value, system ? `${system}|${index}` : index];
}
