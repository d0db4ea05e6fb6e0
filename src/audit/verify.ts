/**
 * Verification of the audit trail (tamper evidence, GB/T 39786-2021 §8 integrity of audit records; 等保 3 安全审计):
 * recomputes every link of the chain from the stored AuditEvents in chain order under the audit key, checks every
 * checkpoint's SM2 signature with the platform's public key, and checks the chain against them. What each catches:
 *
 * | tampering                                        | detected as                                              |
 * |--------------------------------------------------|----------------------------------------------------------|
 * | an event's content edited                        | content-changed (its link's HMAC no longer matches)      |
 * | an event (or its link) deleted in the middle     | event-missing / link-broken (the next link's prev_hash)  |
 * | the last events and their links deleted          | truncated (a signed checkpoint names a later head)       |
 * | the chain rebuilt without the key (plain SM3)    | unkeyed-link (no signed re-key checkpoint seals it)      |
 * | the chain rebuilt under a guessed key            | content-changed from its first link, checkpoint-mismatch |
 * | a checkpoint edited or forged                    | checkpoint-signature-invalid                             |
 * | the table's checkpoints deleted                  | checkpoint-missing (the data directory's file has them)  |
 *
 * What it cannot see: the events after the newest checkpoint (at most N events or T seconds, src/audit/audit-log.ts)
 * deleted together with their links. The walk goes on past a broken link (trusting the stored hash from there), so
 * one edit reads as one problem and a rebuilt chain as a problem at every link.
 */
import type { FieldCrypto } from '../crypto/index.ts';
import type { Queryable } from '../store/index.ts';
import { canonicalJson } from './audit-event.ts';
import { chainHash, GENESIS, isKeyed, KEYED_GENESIS, keyedLink } from './chain-link.ts';
import { checkpointPayload, publicKeyFingerprint, readCheckpointFile, tableCheckpoints, verifyCheckpoint, type Checkpoint } from './checkpoint.ts';

export type ChainProblem =
  | 'content-changed'
  | 'link-broken'
  | 'event-missing'
  | 'unkeyed-link'
  | 'truncated'
  | 'checkpoint-signature-invalid'
  | 'checkpoint-mismatch'
  | 'checkpoint-missing';

export interface ChainFault {
  /** The chain link the problem is at (for a checkpoint: the link it seals). */
  seq: number;
  eventId?: string;
  problem: ChainProblem;
  detail?: string;
}

export interface ChainCheck {
  ok: boolean;
  /** Links checked. */
  checked: number;
  /** The first problem in chain order. */
  brokenAt?: ChainFault;
  /** Every problem found (the first 100), in chain order. */
  problems?: ChainFault[];
}

/** The full report of `healthbrain audit verify`. */
export interface AuditVerification extends ChainCheck {
  head?: { seq: number; hash: string };
  /** Links from before the audit key (unkeyed SM3), sealed by a re-key checkpoint. */
  legacyLinks: number;
  checkpoints: {
    table: number;
    /** Lines of the data directory's file; null when no file was given. */
    file: number | null;
    /** The newest valid checkpoint: the chain must reach it. */
    newest?: { seq: number; count: number; at: string; kind: string };
  };
  keyFingerprint: string;
}

export interface VerifyOptions {
  /** The append-only checkpoint file (`<dataDir>/audit/checkpoints.log`). */
  checkpointFile?: string;
  /** The SM2 public key trusted to sign checkpoints; default the key ring's. */
  publicKey?: string;
  batch?: number;
}

const MAX_PROBLEMS = 100;
type Verifier = Queryable & { crypto: Pick<FieldCrypto, 'auditMac' | 'publicKey'> };

/** Walks the chain and its checkpoints; `ok` with only `checked` when nothing is wrong. */
export async function verifyAuditChain(db: Verifier, options: VerifyOptions = {}): Promise<ChainCheck> {
  const { ok, checked, brokenAt, problems } = await verifyAudit(db, options);
  return ok ? { ok, checked } : { ok, checked, brokenAt, problems };
}

export async function verifyAudit(db: Verifier, options: VerifyOptions = {}): Promise<AuditVerification> {
  const publicKey = options.publicKey ?? db.crypto.publicKey;
  const problems: ChainFault[] = [];
  let total = 0;
  const fault = (f: ChainFault) => {
    total++;
    if (problems.length < MAX_PROBLEMS) problems.push(f);
  };

  // Checkpoints: the table's and the file's, each signature checked once; only valid ones bind the chain.
  const table = await tableCheckpoints(db);
  const file = options.checkpointFile ? readCheckpointFile(options.checkpointFile) : undefined;
  // Keyed by every signed field and the signature: an edited copy is another checkpoint.
  const keyOf = (cp: Checkpoint) => `${checkpointPayload(cp)}\n${cp.signature}`;
  const valid = new Map<string, Checkpoint>();
  const seen = new Map<string, boolean>();
  const check = (cp: Checkpoint, where: string) => {
    const key = keyOf(cp);
    let good = seen.get(key);
    if (good === undefined) seen.set(key, (good = verifyCheckpoint(cp, publicKey)));
    if (good) valid.set(key, cp);
    else fault({ seq: cp.seq, problem: 'checkpoint-signature-invalid', detail: `${where}: the ${cp.kind} checkpoint of link ${cp.seq} does not verify with the platform's SM2 key` });
  };
  for (const cp of table) check(cp, 'audit_checkpoint');
  for (const bad of file?.bad ?? []) fault({ seq: 0, problem: 'checkpoint-signature-invalid', detail: `${options.checkpointFile}:${bad.line} is not a checkpoint` });
  const inTable = new Set(table.map(keyOf));
  for (const cp of file?.checkpoints ?? []) {
    check(cp, `${options.checkpointFile}:${cp.line}`);
    const key = keyOf(cp);
    if (seen.get(key) && !inTable.has(key)) fault({ seq: cp.seq, problem: 'checkpoint-missing', detail: `the checkpoint of link ${cp.seq} in the file is gone from audit_checkpoint` });
  }
  const bySeq = new Map<number, Checkpoint[]>();
  for (const cp of valid.values()) bySeq.set(cp.seq, [...(bySeq.get(cp.seq) ?? []), cp]);
  const reached = new Set<Checkpoint>();

  // The walk.
  let prev: string | undefined;
  let after = 0;
  let checked = 0;
  let legacy = 0;
  let lastLegacy = 0;
  let keyedSeen = false;
  let head: { seq: number; hash: string } | undefined;
  const batch = options.batch ?? 5000;
  for (;;) {
    const { rows } = await db.query<{ seq: number; event_id: string; prev_hash: string; hash: string; content: unknown }>(
      `SELECT c.seq, c.event_id, c.prev_hash, c.hash, r.content FROM audit_chain c
       LEFT JOIN fhir_resource r ON r.resource_type = 'AuditEvent' AND r.id = c.event_id
       WHERE c.seq > $1 ORDER BY c.seq LIMIT ${batch}`,
      [after],
    );
    if (!rows.length) break;
    for (const r of rows) {
      const seq = Number(r.seq);
      const keyed = isKeyed(r.hash);
      const expectedPrev = prev ?? (keyed ? KEYED_GENESIS : GENESIS);
      const eventId = r.event_id;
      if (r.prev_hash !== expectedPrev) fault({ seq, eventId, problem: 'link-broken', detail: 'its prev_hash is not the previous link: a link before it was deleted or changed' });
      else if (r.content === null || r.content === undefined) fault({ seq, eventId, problem: 'event-missing', detail: 'the AuditEvent of this link is gone' });
      else {
        const canonical = canonicalJson(r.content);
        const expected = keyed ? keyedLink(db.crypto, r.prev_hash, canonical) : chainHash(r.prev_hash, canonical);
        if (expected !== r.hash) fault({ seq, eventId, problem: 'content-changed', detail: keyed ? 'the HMAC-SM3 of the stored AuditEvent is not its link' : 'the SM3 of the stored AuditEvent is not its link' });
        else if (!keyed && keyedSeen) fault({ seq, eventId, problem: 'unkeyed-link', detail: 'an unkeyed link after the chain was keyed' });
      }
      if (keyed) keyedSeen = true;
      else {
        legacy++;
        lastLegacy = seq;
      }
      checked++;
      for (const cp of bySeq.get(seq) ?? []) {
        reached.add(cp);
        if (cp.head !== r.hash) fault({ seq, eventId, problem: 'checkpoint-mismatch', detail: `the signed ${cp.kind} checkpoint of ${cp.at} has another head for this link` });
        else if (cp.count !== checked) fault({ seq, eventId, problem: 'checkpoint-mismatch', detail: `the signed ${cp.kind} checkpoint of ${cp.at} counts ${cp.count} links up to here, the chain has ${checked}` });
      }
      prev = r.hash;
      after = seq;
      head = { seq, hash: r.hash };
    }
  }

  // Legacy links hold only under a signed re-key checkpoint at or after the last of them.
  if (legacy && ![...reached].some((cp) => cp.kind === 'rekeyed' && cp.seq >= lastLegacy)) {
    fault({ seq: lastLegacy, problem: 'unkeyed-link', detail: `${legacy} unkeyed link(s) up to ${lastLegacy} not sealed by a signed re-key checkpoint: the chain may have been rebuilt without the key` });
  }
  const newest = [...valid.values()].sort((a, b) => b.seq - a.seq || b.count - a.count)[0];
  const beyond = [...valid.values()].filter((cp) => !head || cp.seq > head.seq);
  if (beyond.length) {
    const first = Math.min(...beyond.map((cp) => cp.seq));
    fault({
      seq: first, problem: 'truncated',
      detail: `the chain ends at link ${head?.seq ?? 0} (${checked} links); ${beyond.length} signed checkpoint(s) name later links, the newest link ${newest.seq} (${newest.count} links, ${newest.at})`,
    });
  }
  for (const cp of valid.values()) {
    if (!reached.has(cp) && head && cp.seq <= head.seq) fault({ seq: cp.seq, problem: 'event-missing', detail: `link ${cp.seq}, sealed by a signed ${cp.kind} checkpoint of ${cp.at}, is gone` });
  }

  problems.sort((a, b) => a.seq - b.seq);
  const ok = total === 0;
  return {
    ok,
    checked,
    ...(ok ? {} : { brokenAt: problems[0], problems }),
    ...(head ? { head } : {}),
    legacyLinks: legacy,
    checkpoints: {
      table: table.length,
      file: file ? file.checkpoints.length + file.bad.length : null,
      ...(newest ? { newest: { seq: newest.seq, count: newest.count, at: newest.at, kind: newest.kind } } : {}),
    },
    keyFingerprint: publicKeyFingerprint(publicKey),
  };
}
