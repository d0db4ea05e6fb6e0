/**
 * Signed checkpoints of the audit chain (issue 10): "at `at`, the chain had `count` links and its head, link `seq`,
 * was `head`", signed with the platform's SM2 key (GB/T 32918 with SM3) so that anyone holding the public key alone
 * can check it. Written to the audit_checkpoint table and appended, one JSON line each, to an append-only file in the
 * data directory: a database-only attacker who deletes the last events can delete the table's checkpoints too, but
 * not the file's, and cannot sign a new one. See src/audit/verify.ts for what each check catches.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { verifySm2, type FieldCrypto } from '../crypto/index.ts';
import type { Queryable } from '../store/index.ts';

/** Why a checkpoint was written: every N events, every T seconds, at clean shutdown, on request, or to seal legacy links. */
export type CheckpointKind = 'events' | 'timer' | 'shutdown' | 'manual' | 'rekeyed';

export interface Checkpoint {
  kind: CheckpointKind;
  /** The chain's head link. */
  seq: number;
  head: string;
  /** How many links the chain held up to and including `seq`. */
  count: number;
  /** ISO 8601, millisecond precision. */
  at: string;
  /** `sm3:<hex>` of the SM2 public key that signs. */
  keyFingerprint: string;
  /** SM2 signature (hex r‖s) of `checkpointPayload`. */
  signature: string;
}

export const CHECKPOINT_FILE = join('audit', 'checkpoints.log');

export function checkpointFilePath(dataDir: string): string {
  return join(dataDir, CHECKPOINT_FILE);
}

export function publicKeyFingerprint(publicKey: string): string {
  return 'sm3:' + createHash('sm3').update(publicKey.toLowerCase()).digest('hex');
}

/** The exact text signed: every field but the signature, in a fixed order. */
export function checkpointPayload(cp: Omit<Checkpoint, 'signature'>): string {
  return ['healthbrain-audit-checkpoint/1', cp.kind, cp.seq, cp.head, cp.count, cp.at, cp.keyFingerprint].join('\n');
}

/** Checks a checkpoint with the public key alone (offline verifiers, a log host). */
export function verifyCheckpoint(cp: Checkpoint, publicKey: string): boolean {
  if (cp.keyFingerprint !== publicKeyFingerprint(publicKey)) return false;
  return verifySm2(checkpointPayload(cp), cp.signature, publicKey);
}

export function signCheckpoint(crypto: Pick<FieldCrypto, 'sign' | 'publicKey'>, fields: Omit<Checkpoint, 'signature' | 'keyFingerprint'>): Checkpoint {
  const unsigned = { ...fields, keyFingerprint: publicKeyFingerprint(crypto.publicKey) };
  return { ...unsigned, signature: crypto.sign(checkpointPayload(unsigned)) };
}

interface CheckpointRow {
  kind: CheckpointKind;
  chain_seq: number;
  head: string;
  count: number;
  at: Date;
  key_fingerprint: string;
  signature: string;
}

const fromRow = (r: CheckpointRow): Checkpoint => ({
  kind: r.kind, seq: Number(r.chain_seq), head: r.head, count: Number(r.count), at: new Date(r.at).toISOString(), keyFingerprint: r.key_fingerprint, signature: r.signature,
});

export async function insertCheckpoint(q: Queryable, cp: Checkpoint): Promise<void> {
  await q.query(
    'INSERT INTO audit_checkpoint (kind, chain_seq, head, count, at, key_fingerprint, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [cp.kind, cp.seq, cp.head, cp.count, cp.at, cp.keyFingerprint, cp.signature],
  );
}

/** Every checkpoint of the table, in chain order. */
export async function tableCheckpoints(q: Queryable): Promise<Checkpoint[]> {
  const { rows } = await q.query<CheckpointRow>('SELECT kind, chain_seq, head, count, at, key_fingerprint, signature FROM audit_checkpoint ORDER BY chain_seq, id');
  return rows.map(fromRow);
}

/** The newest checkpoint of the table. */
export async function latestTableCheckpoint(q: Queryable): Promise<Checkpoint | undefined> {
  const { rows } = await q.query<CheckpointRow>(
    'SELECT kind, chain_seq, head, count, at, key_fingerprint, signature FROM audit_checkpoint ORDER BY chain_seq DESC, id DESC LIMIT 1',
  );
  return rows[0] && fromRow(rows[0]);
}

/** Appends one line and syncs it to disk (O_APPEND: a line is written whole, never interleaved with another's). */
export function appendCheckpointFile(path: string, cp: Checkpoint): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, 'a', 0o600);
  try {
    writeSync(fd, JSON.stringify(cp) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The file's checkpoints; a line that is not one comes back as `{ line, text }` (tampering or a torn write). */
export function readCheckpointFile(path: string): { checkpoints: Array<Checkpoint & { line: number }>; bad: Array<{ line: number; text: string }> } {
  const checkpoints: Array<Checkpoint & { line: number }> = [];
  const bad: Array<{ line: number; text: string }> = [];
  if (!existsSync(path)) return { checkpoints, bad };
  readFileSync(path, 'utf8').split('\n').forEach((text, i) => {
    if (!text.trim()) return;
    try {
      const j = JSON.parse(text) as Checkpoint;
      if (typeof j.seq !== 'number' || typeof j.head !== 'string' || typeof j.count !== 'number' || typeof j.signature !== 'string') throw new Error('not a checkpoint');
      checkpoints.push({ kind: j.kind, seq: j.seq, head: j.head, count: j.count, at: j.at, keyFingerprint: j.keyFingerprint, signature: j.signature, line: i + 1 });
    } catch {
      bad.push({ line: i + 1, text: text.slice(0, 200) });
    }
  });
  return { checkpoints, bad };
}
