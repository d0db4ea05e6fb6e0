/**
 * One link of the audit chain, and the algorithm it names. A keyed link's hash is `hmac-sm3:<64 hex>` =
 * HMAC-SM3(audit key, prev ‖ '\n' ‖ canonical AuditEvent) (HMAC: GB/T 15852.2-2012; SM3: GB/T 32905-2016), under
 * the audit key of the data directory's key ring (src/crypto): whoever can only write the database cannot compute it.
 * A legacy link (written before the key existed) is the unkeyed SM3 hash in plain hex; verification accepts legacy
 * links only up to the signed 're-keyed' checkpoint that sealed them (src/audit/verify.ts).
 */
import { createHash, getHashes } from 'node:crypto';
import type { FieldCrypto } from '../crypto/index.ts';

export const HASH_ALGORITHM: 'sm3' | 'sha256' = getHashes().includes('sm3') ? 'sm3' : 'sha256';
/** The `prev_hash` of the first link of a legacy (unkeyed) chain. */
export const GENESIS = `${HASH_ALGORITHM}:genesis`;
export const KEYED_PREFIX = 'hmac-sm3:';
/** The `prev_hash` of the first link of a keyed chain. */
export const KEYED_GENESIS = `${KEYED_PREFIX}genesis`;

/** The unkeyed link of a legacy chain: SM3(prev ‖ '\n' ‖ canonical). */
export function chainHash(prev: string, canonical: string): string {
  return createHash(HASH_ALGORITHM).update(prev).update('\n').update(canonical).digest('hex');
}

/** The keyed link: HMAC-SM3 under the audit key, the algorithm named in the value. */
export function keyedLink(crypto: Pick<FieldCrypto, 'auditMac'>, prev: string, canonical: string): string {
  return KEYED_PREFIX + crypto.auditMac(prev, canonical);
}

export function isKeyed(hash: string): boolean {
  return hash.startsWith(KEYED_PREFIX);
}
