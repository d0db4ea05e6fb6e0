/**
 * The audit writer: every audited access is durable before the data leaves (a read whose audit fails is refused),
 * and writing it costs the read about one database round trip. Events are group-committed: whatever is queued
 * while one write is in flight goes out in the next, as ONE statement (AuditEvent into fhir_resource and its history,
 * chain link into audit_chain) — under load, many reads share a commit.
 *
 * Tamper evidence (issue 10): each event's link is HMAC-SM3(audit key, previous link ‖ canonical JSON of the
 * AuditEvent) (src/audit/chain-link.ts; GB/T 15852.2, GB/T 32905, the integrity GB/T 39786-2021 asks of audit
 * records), computed under a transaction-scoped advisory lock so that several processes extend one chain. Signed
 * checkpoints (src/audit/checkpoint.ts) seal the head every N events, every T seconds and at clean shutdown, in the
 * audit_checkpoint table and the data directory's append-only file; an events checkpoint rides in the batch's own
 * transaction (one SM2 signature, ~6 ms, per N events), the timed ones in their own.
 */
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../store/index.ts';
import { extractColumns } from '../fhir/extract.ts';
import { canonicalJson, toAuditEvent, type AuditEntry } from './audit-event.ts';
import { isKeyed, keyedLink, KEYED_GENESIS } from './chain-link.ts';
import {
  appendCheckpointFile,
  insertCheckpoint,
  latestTableCheckpoint,
  readCheckpointFile,
  signCheckpoint,
  verifyCheckpoint,
  type Checkpoint,
  type CheckpointKind,
} from './checkpoint.ts';

const LOCK = 500500;
const BATCH = 500;
export const DEFAULT_CHECKPOINT_EVENTS = 1000;
export const DEFAULT_CHECKPOINT_SECONDS = 30;

/** When checkpoints are written and where (set by the composition root: src/api/platform.ts). */
export interface CheckpointPolicy {
  /** The append-only file (`<dataDir>/audit/checkpoints.log`); without one, checkpoints go to the table only. */
  file?: string;
  /** A checkpoint in the transaction of the batch that brings this log's events since the last one to N. */
  everyEvents?: number;
  /** A checkpoint every T seconds when this log wrote events since the last one (0: none). */
  everySeconds?: number;
  /** A checkpoint that failed (a timed one, or the file append): the reads it follows are committed already. */
  onError?: (err: unknown) => void;
}

interface Head {
  seq: number;
  hash: string;
}

interface Pending {
  id: string;
  entry: AuditEntry;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class AuditLog {
  readonly db: Db;
  #queue: Pending[] = [];
  #running = false;
  #idle: Array<() => void> = [];
  #policy: CheckpointPolicy = {};
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Events this log committed since its last checkpoint. */
  #since = 0;
  /** The newest checkpoint this log wrote or verified: the base of the next one's count. */
  #trusted: Checkpoint | undefined;

  constructor(db: Db, policy: CheckpointPolicy = {}) {
    this.db = db;
    this.#policy = policy;
  }

  /** Records one access; resolves with the AuditEvent id once it is committed. */
  record(entry: AuditEntry): Promise<string> {
    const id = randomUUID();
    const done = new Promise<void>((resolve, reject) => this.#queue.push({ id, entry, resolve, reject }));
    if (!this.#running) {
      this.#running = true;
      void this.#drain();
    }
    return done.then(() => id);
  }

  /** Resolves when nothing is queued or being written (tests, shutdown). */
  flushed(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Starts the checkpoint policy (file, N, T) and seals a legacy (unkeyed) head with a 're-keyed' checkpoint, so an
   * old data directory's chain verifies up to where it switched. Call `stopCheckpoints` at shutdown.
   */
  async useCheckpoints(policy: CheckpointPolicy): Promise<void> {
    this.#policy = policy;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const seconds = policy.everySeconds ?? DEFAULT_CHECKPOINT_SECONDS;
    if (seconds > 0) {
      this.#timer = setInterval(() => void this.#timed(), seconds * 1000);
      this.#timer.unref(); // a pending checkpoint never keeps a process alive; shutdown writes its own
    }
    const sealed = await this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
      const head = await chainHead(tx);
      return head && !isKeyed(head.hash) ? this.#sealLegacy(tx, head) : undefined;
    });
    if (sealed) this.#committed([sealed]);
  }

  /** Clean shutdown: stops the timer, waits for queued events and checkpoints what this log wrote since the last. */
  async stopCheckpoints(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flushed();
    if (this.#since > 0) await this.checkpoint('shutdown');
  }

  /** Writes a signed checkpoint of the chain's head now (`healthbrain audit checkpoint`); undefined for an empty chain. */
  async checkpoint(kind: CheckpointKind = 'manual'): Promise<Checkpoint | undefined> {
    const since = this.#since;
    const cp = await this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
      const head = await chainHead(tx);
      return head ? this.#checkpointIn(tx, kind, head) : undefined;
    });
    if (cp) this.#committed([cp]);
    // What was committed while this one waited for the lock is in it too; only what came after stays counted.
    this.#since = Math.max(0, this.#since - since);
    return cp;
  }

  async #timed(): Promise<void> {
    if (this.#since === 0) return;
    try {
      await this.checkpoint('timer');
    } catch (err) {
      this.#policy.onError?.(err);
    }
  }

  /** Signs and inserts a checkpoint of `head` in `tx` (which holds the chain lock). */
  async #checkpointIn(tx: Queryable, kind: CheckpointKind, head: Head): Promise<Checkpoint> {
    const crypto = this.db.crypto;
    // The count continues from the newest checkpoint whose signature holds (another node's is verified once, ~20 ms);
    // a count over the whole chain only for the very first.
    let base = this.#trusted;
    const latest = await latestTableCheckpoint(tx);
    if (latest && latest.signature !== base?.signature && (!base || latest.seq > base.seq) && verifyCheckpoint(latest, crypto.publicKey)) base = latest;
    if (base && base.seq > head.seq) base = undefined;
    const { rows } = await tx.query<{ n: number }>('SELECT count(*) AS n FROM audit_chain WHERE seq > $1 AND seq <= $2', [base?.seq ?? 0, head.seq]);
    const cp = signCheckpoint(crypto, { kind, seq: head.seq, head: head.hash, count: (base?.count ?? 0) + Number(rows[0].n), at: new Date().toISOString() });
    await insertCheckpoint(tx, cp);
    return cp;
  }

  /**
   * The clean cut from an unkeyed chain: a signed checkpoint of its last legacy link — only for a chain that was never
   * checkpointed (no checkpoint in the table nor in the file). An unkeyed head under existing checkpoints is a chain
   * rebuilt without the key: signing it would launder it, so it stays unsealed and verification reports it.
   */
  async #sealLegacy(tx: Queryable, head: Head): Promise<Checkpoint | undefined> {
    const { rows } = await tx.query('SELECT 1 FROM audit_checkpoint LIMIT 1');
    const file = this.#policy.file;
    if (rows.length || (file && readCheckpointFile(file).checkpoints.length)) {
      this.#policy.onError?.(new Error(`the audit chain's head (seq ${head.seq}) is unkeyed but the chain has checkpoints: not sealing it (rebuilt without the key?)`));
      return undefined;
    }
    return this.#checkpointIn(tx, 'rekeyed', head);
  }

  /** After commit: the newest checkpoint becomes the trusted base, and every one goes to the file. */
  #committed(cps: Checkpoint[]): void {
    this.#trusted = cps[cps.length - 1];
    const file = this.#policy.file;
    if (!file) return;
    try {
      for (const cp of cps) appendCheckpointFile(file, cp);
    } catch (err) {
      this.#policy.onError?.(err);
    }
  }

  async #drain(): Promise<void> {
    while (this.#queue.length) {
      const batch = this.#queue.splice(0, BATCH);
      try {
        const cps = await this.db.transaction((tx) => this.#writeBatch(tx, batch));
        this.#since = cps.at(-1)?.kind === 'events' ? 0 : this.#since + batch.length;
        if (cps.length) this.#committed(cps);
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.#running = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** One batch in one statement; returns the checkpoints written in the same transaction. */
  async #writeBatch(tx: Queryable, batch: Pending[]): Promise<Checkpoint[]> {
    const crypto = this.db.crypto;
    const checkpoints: Checkpoint[] = [];
    await tx.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
    const last = await chainHead(tx);
    if (last && !isKeyed(last.hash)) {
      const sealed = await this.#sealLegacy(tx, last);
      if (sealed) checkpoints.push(sealed);
    }
    let prev = last?.hash ?? KEYED_GENESIS;
    const rows = batch.map(({ id, entry }) => {
      const event = toAuditEvent(id, entry);
      const cols = extractColumns(event);
      const hash = keyedLink(crypto, prev, canonicalJson(event));
      const row = {
        // A search's event concerns several persons: it is stored under the first (AuditEvent?patient= searches entities).
        id, pk: entry.personId ?? entry.persons?.[0]?.personId ?? '', inst: entry.actor.institutionId ?? null, ts: event.recorded, content: event, status: event.outcome,
        identifiers: cols.identifiers, codes: cols.codes, categories: cols.categories, tokens: cols.tokens, strings: cols.strings, refs: cols.refs,
        lo: cols.dateLo, hi: cols.dateHi, keys: [...(entry.patientKeys ?? []), ...(entry.persons ?? []).flatMap((p) => p.patientKeys)], agent: entry.actor.subject, outcome: event.outcome, btg: entry.btg === true, prev, hash,
      };
      prev = hash;
      return row;
    });
    const arr = (k: string) => `ARRAY(SELECT jsonb_array_elements_text(r->'${k}'))`;
    const inserted = await tx.query<{ seq: number }>(
      `WITH r AS (SELECT value AS r, ordinality AS n FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY),
       cur AS (
         INSERT INTO fhir_resource (patient_key, resource_type, id, version_id, last_updated, deleted, institution_id, content, status,
           identifiers, codes, categories, tokens, strings, refs, date_lo, date_hi)
         SELECT r->>'pk', 'AuditEvent', r->>'id', 1, (r->>'ts')::timestamptz, false, r->>'inst', r->'content', r->>'status',
           ${arr('identifiers')}, ${arr('codes')}, ${arr('categories')}, ${arr('tokens')}, ${arr('strings')}, ${arr('refs')},
           (r->>'lo')::timestamptz, (r->>'hi')::timestamptz FROM r
       ),
       hist AS (
         INSERT INTO fhir_resource_history (patient_key, resource_type, id, version_id, last_updated, deleted, institution_id, content)
         SELECT r->>'pk', 'AuditEvent', r->>'id', 1, (r->>'ts')::timestamptz, false, r->>'inst', r->'content' FROM r
       )
       INSERT INTO audit_chain (event_id, recorded, person_id, patient_keys, agent, outcome, btg, prev_hash, hash)
       SELECT r->>'id', (r->>'ts')::timestamptz, nullif(r->>'pk', ''), ${arr('keys')}, r->>'agent', r->>'outcome', (r->>'btg')::boolean,
         r->>'prev', r->>'hash' FROM r ORDER BY n
       RETURNING seq`,
      [JSON.stringify(rows)],
    );
    if (this.#since + batch.length >= (this.#policy.everyEvents ?? DEFAULT_CHECKPOINT_EVENTS)) {
      const seq = Math.max(...inserted.rows.map((r) => Number(r.seq)));
      checkpoints.push(await this.#checkpointIn(tx, 'events', { seq, hash: prev }));
    }
    return checkpoints;
  }
}

async function chainHead(q: Queryable): Promise<Head | undefined> {
  const { rows } = await q.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1');
  return rows[0] && { seq: Number(rows[0].seq), hash: rows[0].hash };
}

// One audit log per database handle (the platform's), shared by the FHIR access rule and the record routes, so the
// chain is extended by one writer per process. Keyed by the Db object: not a module singleton of the database.
const logs = new WeakMap<Db, AuditLog>();

/** The audit log of this database handle, created on first use. */
export function auditLogFor(db: Db): AuditLog {
  let log = logs.get(db);
  if (!log) logs.set(db, (log = new AuditLog(db)));
  return log;
}
