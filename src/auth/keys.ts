import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';

/** ES256 (ECDSA P-256, RFC 7518 §3.4): the algorithm SMART Backend Services names first, and SM2-sized. */
export const SIGNING_ALG = 'ES256';

export interface SigningKeys {
  alg: typeof SIGNING_ALG;
  /** Key id (RFC 7638 thumbprint), written into every token header so keys can rotate later. */
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** Public JWK, for `/auth/jwks` (RFC 7517). */
  publicJwk: JWK;
}

async function fromPrivateJwk(jwk: JWK): Promise<SigningKeys> {
  const { d: _d, ...pub } = jwk;
  void _d;
  const kid = jwk.kid ?? (await calculateJwkThumbprint(pub));
  return {
    alg: SIGNING_ALG,
    kid,
    privateKey: (await importJWK(jwk, SIGNING_ALG)) as CryptoKey,
    publicKey: (await importJWK(pub, SIGNING_ALG)) as CryptoKey,
    publicJwk: { ...pub, kid, alg: SIGNING_ALG, use: 'sig' },
  };
}

async function newPrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, alg: SIGNING_ALG, kid: await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }) };
}

/** A fresh key pair held only in memory (tests, throwaway servers). */
export async function generateSigningKeys(): Promise<SigningKeys> {
  return fromPrivateJwk(await newPrivateJwk());
}

/**
 * Loads the platform's signing key from `<dataDir>/keys/signing-key.jwk.json`, creating it (mode 0600, directory
 * 0700) on first start. Every node of a multi-node deployment must see the same file: see docs/ARCHITECTURE.md.
 */
export async function loadOrCreateSigningKeys(dataDir: string): Promise<SigningKeys> {
  const dir = join(dataDir, 'keys');
  const file = join(dir, 'signing-key.jwk.json');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    return await fromPrivateJwk(JSON.parse(readFileSync(file, 'utf8')) as JWK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read signing key ${file}: ${String(err)}`);
  }
  const jwk = await newPrivateJwk();
  try {
    // 'wx': if another process created the key between our read and now, keep theirs.
    writeFileSync(file, JSON.stringify(jwk, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    return fromPrivateJwk(jwk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return fromPrivateJwk(JSON.parse(readFileSync(file, 'utf8')) as JWK);
  }
}
