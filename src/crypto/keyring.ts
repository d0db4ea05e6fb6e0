/**
 * The platform's secret keys at rest (GB/T 39786-2021 密钥管理): field-encryption keys (SM4, by version, for
 * rotation), the blind-index key (HMAC-SM3, for searching encrypted identifiers), the audit-chain key (HMAC-SM3) and
 * the SM2 key pair that signs audit checkpoints. Kept in `<dataDir>/keys/platform-keys.json` (mode 0600), beside the
 * token-signing key; several nodes on one PostgreSQL share the file like that key. With no data directory (tests,
 * throwaway servers) a fresh ring lives in memory only.
 *
 * KMS hook: when `HEALTHBRAIN_MASTER_KEY` (32 hex digits) is set, or `HEALTHBRAIN_KMS_COMMAND` names a command whose
 * standard output is that master key (a KMS client: the key never touches the disk), the file is stored wrapped —
 * SM4-CTR + HMAC-SM3 under the master key — and unwrapped in memory at start-up.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { execSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sm2 } from 'sm-crypto-v2';

export interface FieldKey {
  /** SM4 key, 16 bytes. */
  enc: Buffer;
  /** HMAC-SM3 key of the ciphertext's integrity tag, 32 bytes. */
  mac: Buffer;
}

export interface KeyRing {
  /** Field keys by version; `current` encrypts, every version decrypts. */
  field: Map<number, FieldKey>;
  current: number;
  /** Blind-index key (HMAC-SM3), 32 bytes. Not versioned: rotating it means recomputing every index. */
  index: Buffer;
  /** Audit-chain key (HMAC-SM3), 32 bytes. */
  audit: Buffer;
  /** SM2 key pair (hex, sm-crypto-v2 form) signing audit checkpoints. */
  sm2: { privateKey: string; publicKey: string };
}

interface KeyFile {
  format: 'healthbrain-keys/1';
  current: number;
  field: Array<{ version: number; enc: string; mac: string; created: string }>;
  index: string;
  audit: string;
  sm2: { privateKey: string; publicKey: string };
}

interface WrappedFile {
  format: 'healthbrain-keys-wrapped/1';
  iv: string;
  data: string;
  tag: string;
}

export const KEY_FILE = 'platform-keys.json';

/** A fresh key ring (in memory). */
export function generateKeyRing(): KeyRing {
  return {
    field: new Map([[1, newFieldKey()]]),
    current: 1,
    index: randomBytes(32),
    audit: randomBytes(32),
    sm2: sm2.generateKeyPairHex(),
  };
}

function newFieldKey(): FieldKey {
  return { enc: randomBytes(16), mac: randomBytes(32) };
}

export function keyFilePath(dataDir: string): string {
  return join(dataDir, 'keys', KEY_FILE);
}

/** The master key from the KMS hook, if one is configured. */
function masterKey(env: NodeJS.ProcessEnv): Buffer | undefined {
  let hex = env.HEALTHBRAIN_MASTER_KEY?.trim();
  if (!hex && env.HEALTHBRAIN_KMS_COMMAND) hex = execSync(env.HEALTHBRAIN_KMS_COMMAND, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  if (!hex) return undefined;
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error('the master key (HEALTHBRAIN_MASTER_KEY / HEALTHBRAIN_KMS_COMMAND) must be 32 hex digits (an SM4 key)');
  return Buffer.from(hex, 'hex');
}

function wrapKeys(master: Buffer, plain: string): WrappedFile {
  const iv = randomBytes(16);
  const c = createCipheriv('sm4-ctr', master, iv);
  const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  const tag = createHmac('sm3', master).update(iv).update(data).digest();
  return { format: 'healthbrain-keys-wrapped/1', iv: iv.toString('base64'), data: data.toString('base64'), tag: tag.toString('base64') };
}

function unwrapKeys(master: Buffer, w: WrappedFile): string {
  const iv = Buffer.from(w.iv, 'base64');
  const data = Buffer.from(w.data, 'base64');
  const tag = createHmac('sm3', master).update(iv).update(data).digest();
  if (!timingSafeEqual(tag, Buffer.from(w.tag, 'base64'))) throw new Error('the key file does not open with this master key');
  const d = createDecipheriv('sm4-ctr', master, iv);
  return Buffer.concat([d.update(data), d.final()]).toString('utf8');
}

function toFile(ring: KeyRing, created: Map<number, string>): KeyFile {
  return {
    format: 'healthbrain-keys/1',
    current: ring.current,
    field: [...ring.field].map(([version, k]) => ({ version, enc: k.enc.toString('hex'), mac: k.mac.toString('hex'), created: created.get(version) ?? new Date().toISOString() })),
    index: ring.index.toString('hex'),
    audit: ring.audit.toString('hex'),
    sm2: ring.sm2,
  };
}

function fromFile(f: KeyFile): { ring: KeyRing; created: Map<number, string> } {
  if (f.format !== 'healthbrain-keys/1') throw new Error(`unknown key file format ${String(f.format)}`);
  const field = new Map(f.field.map((k) => [k.version, { enc: Buffer.from(k.enc, 'hex'), mac: Buffer.from(k.mac, 'hex') }] as const));
  if (!field.has(f.current)) throw new Error(`the key file names current version ${f.current}, which it does not hold`);
  return {
    ring: { field, current: f.current, index: Buffer.from(f.index, 'hex'), audit: Buffer.from(f.audit, 'hex'), sm2: f.sm2 },
    created: new Map(f.field.map((k) => [k.version, k.created])),
  };
}

function readRing(path: string, env: NodeJS.ProcessEnv): { ring: KeyRing; created: Map<number, string> } {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as KeyFile | WrappedFile;
  if (parsed.format === 'healthbrain-keys-wrapped/1') {
    const master = masterKey(env);
    if (!master) throw new Error(`${path} is wrapped by a master key: set HEALTHBRAIN_MASTER_KEY or HEALTHBRAIN_KMS_COMMAND`);
    return fromFile(JSON.parse(unwrapKeys(master, parsed)) as KeyFile);
  }
  return fromFile(parsed);
}

function writeRing(path: string, ring: KeyRing, created: Map<number, string>, env: NodeJS.ProcessEnv): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const text = JSON.stringify(toFile(ring, created), null, 2);
  const master = masterKey(env);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, master ? JSON.stringify(wrapKeys(master, text), null, 2) : text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path); // atomic: a crash never leaves half a key file
}

/**
 * The key ring of a data directory, created on first use; in memory when `dataDir` is undefined.
 */
export function loadOrCreateKeyRing(dataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): KeyRing {
  if (!dataDir) return generateKeyRing();
  const path = keyFilePath(dataDir);
  if (existsSync(path)) return readRing(path, env).ring;
  const ring = generateKeyRing();
  writeRing(path, ring, new Map([[1, new Date().toISOString()]]), env);
  return ring;
}

/**
 * Adds a new field-key version and makes it current (`healthbrain keys rotate`); older versions stay so existing
 * ciphertexts still open until they are re-encrypted. Returns the new ring.
 */
export function rotateFieldKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): KeyRing {
  const path = keyFilePath(dataDir);
  const { ring, created } = readRing(path, env);
  const version = Math.max(...ring.field.keys()) + 1;
  ring.field.set(version, newFieldKey());
  ring.current = version;
  created.set(version, new Date().toISOString());
  writeRing(path, ring, created, env);
  return ring;
}

/** Drops field-key versions no ciphertext uses any more (after re-encryption). */
export function retireFieldKeys(dataDir: string, keep: Iterable<number>, env: NodeJS.ProcessEnv = process.env): KeyRing {
  const path = keyFilePath(dataDir);
  const { ring, created } = readRing(path, env);
  const wanted = new Set([...keep, ring.current]);
  for (const v of [...ring.field.keys()]) if (!wanted.has(v)) ring.field.delete(v);
  writeRing(path, ring, created, env);
  return ring;
}
