/**
 * The audit writer: every audited access is durable before the data leaves (a read whose audit fails is refused),
 * and writing it costs the read about one database round trip. Events are group-committed: whatever is queued
 * while one write is in flight goes out in the next, as ONE statement (AuditEvent into fhir_resource and its history,
 * chain link into audit_chain) — under load, many reads share a commit.
 *
 * Tamper evidence: each event's chain hash is SM3(previous hash ‖ canonical JSON of the AuditEvent) (SM3: GM/T
 * 0004-2012 / GB/T 32905-2016, the hash GB/T 39786-2021 expects for audit integrity), computed under a transaction-
 * scoped advisory lock so that several processes extend one chain. Node's OpenSSL provides `sm3`; where it does not,
 * SHA-256 is used and the algorithm is recorded in the chain's first link.
 */
import { createHash, getHashes, randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../store/index.ts';
import { extractColumns } from '../fhir/extract.ts';
import { canonicalJson, toAuditEvent, type AuditEntry } from './audit-event.ts';

export const HASH_ALGORITHM: 'sm3' | 'sha256' = getHashes().includes('sm3') ? 'sm3' : 'sha256';
/** The `prev_hash` of the first link. */
export const GENESIS = `${HASH_ALGORITHM}:genesis`;
const LOCK = 500500;
const BATCH = 500;

export function chainHash(prev: string, canonical: string): string {
  return createHash(HASH_ALGORITHM).update(prev).update('\n').update(canonical).digest('hex');
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

  constructor(db: Db) {
    this.db = db;
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

  async #drain(): Promise<void> {
    while (this.#queue.length) {
      const batch = this.#queue.splice(0, BATCH);
      try {
        await this.db.transaction((tx) => writeBatch(tx, batch));
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.#running = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}

async function writeBatch(tx: Queryable, batch: Pending[]): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
  const last = await tx.query<{ hash: string }>('SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1');
  let prev = last.rows[0]?.hash ?? GENESIS;
  const rows = batch.map(({ id, entry }) => {
    const event = toAuditEvent(id, entry);
    const cols = extractColumns(event);
    const hash = chainHash(prev, canonicalJson(event));
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
  await tx.query(
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
       r->>'prev', r->>'hash' FROM r ORDER BY n`,
    [JSON.stringify(rows)],
  );
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
