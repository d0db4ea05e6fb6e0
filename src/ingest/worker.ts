import type { FieldCrypto } from '../crypto/index.ts';
import { isTransientConflict, type Db, type Queryable } from '../store/index.ts';
import type { Resource } from '@medplum/fhirtypes';
import type { Channel, LandedUnit, QuarantineReason, ResourceWriter, Standardizer, UnitStatus } from './types.ts';

/**
 * Used until the standardization module is wired in: quarantines every unit with reason `standardizer-missing`, so
 * nothing is dropped silently and `reprocess --reason standardizer-missing` picks it all up once a real one exists.
 */
export const quarantineWithoutStandardizer: Standardizer = async () => ({
  quarantine: [{ code: 'standardizer-missing', detail: 'no standardizer is configured on this server' }],
});

/**
 * Units claimed per transaction by default (PostgreSQL). Against 200: HL7 +15 %, CSV −5 % end to end in back-to-back
 * runs (docs/BENCHMARKS.md), +23–30 % before the per-batch work; fewer per-batch statements per unit (the batch's write,
 * status update, unmapped-code sightings, EMPI locks). A batch holds only its own units' rows; a failed one is redone
 * unit by unit.
 */
export const DEFAULT_BATCH_SIZE = 500;

/**
 * Content bytes claimed per transaction by default: the claim stops once its units reach this (at least one unit is
 * claimed). 500 CSV rows or HL7 messages are far below it; async FHIR Bundles of 100 entries (~60 kB) stop at ~35 a
 * batch — before, a backlog of 239 of them went into one transaction (heap 446 MB).
 */
export const DEFAULT_BATCH_BYTES = 2 * 1024 * 1024;

/**
 * A Standardizer may leave part of its writes to the end of the transaction (one statement for the whole batch
 * instead of one per unit): the worker calls `beginBatch(tx, units)` with the transaction's Queryable (and, for a whole
 * batch, its claimed units, in order: what the standardizer may read ahead for all of them at once) before its first
 * unit, and `endBatch(tx)` after its last unit was standardized and before the resources are written — once per batch,
 * or per unit when a failed batch is redone unit by unit. If `endBatch` throws, the batch is redone unit by unit (a unit
 * whose end throws is retried later). A Standardizer called without them must do each unit's work at once.
 */
export type BatchAware = {
  /**
   * Awaited before each batch's transaction begins: loads what the standardizer needs (code tables, maps) OUTSIDE the
   * transaction. On the embedded engine, which serves one transaction at a time, a batch that waited inside its
   * transaction for a load another caller had started on the database would wait forever.
   */
  prepare?: () => Promise<void>;
  beginBatch?: (tx: Queryable, units?: readonly LandedUnit[]) => void;
  /**
   * With `endBatch` the worker writes the batch's quarantines at its end, with its other statuses (one statement), so
   * the standardizer must report in `released` each unit it quarantined in the batch that a later unit released.
   */
  endBatch?: (tx: Queryable) => Promise<BatchEnd | void>;
};

/** What a batch-aware standardizer tells the worker at the end of a batch. */
export interface BatchEnd {
  /**
   * Units of this batch it quarantined that a LATER unit of the same batch released (a patient's first registration
   * requeues the units held for that patient): the release wins — the worker leaves them 'landed' with attempts 0 and
   * no reasons, exactly as a release of a unit quarantined by an earlier batch does, instead of quarantining them.
   */
  released?: Iterable<number>;
}

/** Writes the standardized resources of several units (the FHIR repository) inside the worker's transaction. */
export type BatchWriter = (tx: Queryable, units: Array<{ unit: LandedUnit; resources: Resource[] }>) => Promise<void>;

export interface WorkerOptions {
  standardize?: Standardizer;
  /** Where standardized resources go (the FHIR repository), one unit's at a time. */
  writeResources?: ResourceWriter;
  /**
   * Where standardized resources go, the whole batch's at once (one set-based write), in unit order. Preferred over
   * `writeResources` when given; one of the two is required if the standardizer returns resources.
   */
  writeBatch?: BatchWriter;
  /** Units claimed per transaction. */
  batchSize?: number;
  /** Content bytes claimed per transaction: no more units once the claimed ones reach it (at least one). */
  batchBytes?: number;
  /**
   * Worker loops of an IngestWorker, each running its own transactions (PostgreSQL: FOR UPDATE SKIP LOCKED shares
   * the queue, so one batch's standardization in node overlaps another's writes in PostgreSQL). The embedded engine
   * serves one transaction at a time: always 1 there. Default 1.
   */
  loops?: number;
  /**
   * Called when a batch failed as a whole (a standardizer threw, the write was refused; a deadlock victim is first
   * tried again whole, three times) and is being redone unit by unit, with the error and the batch's unit count.
   */
  onBatchRedone?: (err: unknown, units: number) => void;
  /** After this many failed attempts (the standardizer threw) a unit is quarantined with `standardizer-error`. */
  maxAttempts?: number;
  /**
   * On the embedded engine, how long the worker leaves it to requests after a batch that had to wait for them, ms
   * (see IngestWorker). Default 25.
   */
  yieldMs?: number;
  /** Poll interval when idle, ms (a landing also wakes the worker at once through `notify`). */
  idleMs?: number;
  /**
   * Asked before each unit of a batch: once true the batch is abandoned — its transaction rolled back whole, its units
   * left 'landed' for the next run — so that a shutdown does not wait for a whole batch (IngestWorker.stop).
   */
  shouldStop?: () => boolean;
  onError?: (err: unknown) => void;
}

interface UnitRow {
  id: number;
  institution_id: string;
  channel: Channel;
  content_type: string;
  encoding: string;
  received_at: Date;
  h: string;
  content: Uint8Array;
  meta: Record<string, unknown>;
  status: UnitStatus;
  attempts: number;
}

/** A claimed row as the standardizer gets it: its bytes unsealed (landed sealed: landing.ts; legacy rows pass as they are). */
export function toLandedUnit(r: UnitRow, crypto: FieldCrypto): LandedUnit {
  return {
    id: Number(r.id),
    institutionId: r.institution_id,
    channel: r.channel,
    contentType: r.content_type,
    encoding: r.encoding,
    receivedAt: r.received_at,
    contentHash: r.h,
    content: crypto.unseal(r.content),
    meta: r.meta ?? {},
    status: r.status,
    attempts: r.attempts,
  };
}

export const UNIT_COLUMNS = `id, institution_id, channel, content_type, encoding, received_at, encode(content_hash, 'hex') AS h,
  content, meta, status, attempts`;

/** A batch given up because the worker is stopping (`shouldStop`): rolled back whole, nothing of it written. */
export class BatchAbandoned extends Error {
  constructor() {
    super('standardization batch abandoned: the worker is stopping');
  }
}

/**
 * Standardizes one batch of landed units: claims up to `batchSize` units still 'landed' with FOR UPDATE SKIP LOCKED
 * (so several workers never take the same unit), runs the standardizer on each, and writes their resources and new
 * statuses in the SAME transaction. A crash anywhere before commit leaves the units 'landed' and nothing written; the
 * next run does them again — nothing lost, nothing doubled. Returns the number of units processed.
 *
 * Set-based first: the whole batch is standardized, then the resources of all its units are written together
 * (`writeBatch`, one set-based write) and the standardized units' statuses moved by one statement. Only if that fails
 * — a standardizer throws, or the batch's write is refused — is the batch rolled back to its start and done again
 * unit by unit, a savepoint each, so one bad unit still cannot undo its neighbours' work.
 */
export async function standardizeBatch(db: Db, options: WorkerOptions = {}): Promise<number> {
  await (options.standardize as BatchAware | undefined)?.prepare?.();
  return db.transaction(async (tx) => {
    // ingest_claim (migration 0212): up to batchSize units still 'landed', in id order, FOR UPDATE SKIP LOCKED, no more
    // once their content reaches batchBytes; FHIR Bundles that a request may still be processing are left to it.
    const { rows } = await tx.query<UnitRow>(`SELECT ${UNIT_COLUMNS} FROM ingest_claim($1, $2)`, [
      options.batchSize ?? DEFAULT_BATCH_SIZE, options.batchBytes ?? DEFAULT_BATCH_BYTES,
    ]);
    if (!rows.length) return 0;
    const units = rows.map((r) => toLandedUnit(r, db.crypto));
    await tx.exec('SAVEPOINT batch');
    for (let attempt = 1; ; attempt++) {
      try {
        await wholeBatch(own(tx), units, options);
        break;
      } catch (err) {
        if (err instanceof BatchAbandoned) throw err; // out of the transaction: rolled back whole
        await tx.exec('ROLLBACK TO SAVEPOINT batch');
        // A deadlock victim (another loop's batch locked the same rows in another order) is not a bad unit: the rollback
        // to the savepoint released what the attempt locked, the other batch goes on, and the whole batch is tried again
        // — unit by unit, each unit's locks held until the end of the transaction in unit order, would deadlock more.
        if (isTransientConflict(err) && attempt < 4) {
          await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** attempt));
          continue;
        }
        options.onBatchRedone?.(err, units.length);
        await unitByUnit(tx, units, options);
        break;
      }
    }
    return rows.length;
  });
}

/**
 * A Queryable of its own over `tx`: standardizers key per-transaction caches (patients registered so far) by this
 * object, so a part of the transaction that is rolled back to a savepoint must not share it with what follows.
 */
function own(tx: Queryable): Queryable {
  return { query: (sql, params, options) => tx.query(sql, params, options), exec: (sql) => tx.exec(sql), crypto: tx.crypto };
}

async function wholeBatch(tx: Queryable, units: LandedUnit[], options: WorkerOptions): Promise<void> {
  const standardize = options.standardize ?? quarantineWithoutStandardizer;
  const done: Array<{ unit: LandedUnit; resources: Resource[]; entryRefs?: Array<string | null> }> = [];
  const quarantined: Array<{ id: number; reasons: QuarantineReason[] }> = [];
  // A standardizer with `endBatch` reports the releases of this batch's quarantined units; one without it may requeue
  // them in the database itself (a patient's arrival), so its quarantines are written at once for that to find.
  const deferred = typeof (standardize as BatchAware).endBatch === 'function';
  (standardize as BatchAware).beginBatch?.(tx, units);
  for (const unit of units) {
    if (options.shouldStop?.()) throw new BatchAbandoned();
    const result = await standardize(unit, tx);
    if ('resources' in result) done.push({ unit, resources: result.resources, entryRefs: result.entryRefs });
    else if (deferred) quarantined.push({ id: unit.id, reasons: result.quarantine });
    else await setStatus(tx, unit.id, 'quarantined', result.quarantine);
  }
  // A unit quarantined early in the batch may have been released by a later one (its patient arrived): that wins.
  const end = await (standardize as BatchAware).endBatch?.(tx);
  const released = new Set(end?.released ?? []);
  await writeAll(tx, done, options);
  // Every unit's new status in ONE statement: standardized (with what each of its records became, if the standardizer
  // says: a FHIR Bundle's entries, for its status URL), quarantined with its reasons, or released ('landed').
  const ids: number[] = [];
  const statuses: UnitStatus[] = [];
  const reasons: Array<string | null> = [];
  const refs: Array<string | null> = [];
  for (const d of done) ids.push(d.unit.id), statuses.push('standardized'), reasons.push(null), refs.push(d.entryRefs ? JSON.stringify(d.entryRefs) : null);
  for (const q of quarantined) {
    const free = released.has(q.id);
    ids.push(q.id), statuses.push(free ? 'landed' : 'quarantined'), reasons.push(free ? null : JSON.stringify(q.reasons)), refs.push(null);
  }
  if (!ids.length) return;
  await tx.query(
    `UPDATE landed_unit u SET status = x.status, reasons = x.reasons, last_error = NULL, entry_refs = x.refs,
            attempts = CASE WHEN x.status = 'landed' THEN 0 ELSE u.attempts + 1 END, processed_at = now()
       FROM unnest($1::bigint[], $2::text[], $3::jsonb[], $4::jsonb[]) AS x(id, status, reasons, refs)
      WHERE u.id = x.id`,
    [ids, statuses, reasons, refs],
  );
}

async function writeAll(tx: Queryable, done: Array<{ unit: LandedUnit; resources: Resource[] }>, options: WorkerOptions): Promise<void> {
  const some = done.filter((d) => d.resources.length);
  if (!some.length) return;
  if (options.writeBatch) return options.writeBatch(tx, some);
  if (!options.writeResources) throw new Error('no resource writer configured');
  for (const d of some) await options.writeResources(tx, d.resources, d.unit);
}

/** The careful path: a savepoint per unit, its own standardize + write + status; a unit that throws is retried later. */
async function unitByUnit(tx: Queryable, units: LandedUnit[], options: WorkerOptions): Promise<void> {
  const standardize = options.standardize ?? quarantineWithoutStandardizer;
  const maxAttempts = options.maxAttempts ?? 5;
  for (const unit of units) {
    if (options.shouldStop?.()) throw new BatchAbandoned();
    await tx.exec('SAVEPOINT unit');
    try {
      const q = own(tx);
      (standardize as BatchAware).beginBatch?.(q);
      const result = await standardize(unit, q);
      const end = await (standardize as BatchAware).endBatch?.(q);
      if ('resources' in result) {
        await writeAll(q, [{ unit, resources: result.resources }], options);
        await setStatus(q, unit.id, 'standardized', null, result.entryRefs);
      } else if (new Set(end?.released ?? []).has(unit.id)) {
        // What it waited for arrived meanwhile (a concurrent batch registered its patient): the release wins.
        await q.query(`UPDATE landed_unit SET attempts = 0, last_error = NULL, reasons = NULL, processed_at = now() WHERE id = $1`, [unit.id]);
      } else {
        await setStatus(q, unit.id, 'quarantined', result.quarantine);
      }
      await tx.exec('RELEASE SAVEPOINT unit');
    } catch (err) {
      await tx.exec('ROLLBACK TO SAVEPOINT unit');
      const message = err instanceof Error ? err.message : String(err);
      const give = unit.attempts + 1 >= maxAttempts;
      await tx.query(
        `UPDATE landed_unit SET attempts = attempts + 1, last_error = $2,
           status = CASE WHEN $3::boolean THEN 'quarantined' ELSE status END,
           reasons = CASE WHEN $3::boolean THEN $4::jsonb ELSE reasons END,
           processed_at = CASE WHEN $3::boolean THEN now() ELSE processed_at END
         WHERE id = $1`,
        [unit.id, message, give, JSON.stringify([{ code: 'standardizer-error', detail: message }])],
      );
      options.onError?.(err);
    }
  }
}

async function setStatus(tx: Queryable, id: number, status: UnitStatus, reasons: QuarantineReason[] | null, entryRefs?: Array<string | null>) {
  await tx.query(
    `UPDATE landed_unit SET status = $2, reasons = $3::jsonb, last_error = NULL, attempts = attempts + 1, processed_at = now(), entry_refs = $4::jsonb
     WHERE id = $1`,
    [id, status, reasons ? JSON.stringify(reasons) : null, entryRefs ? JSON.stringify(entryRefs) : null],
  );
}

/**
 * Runs batches until no unit is left 'landed' (a unit whose standardizer keeps throwing is quarantined after
 * `maxAttempts`, so this ends); returns how many units were processed.
 */
export async function drainQueue(db: Db, options: WorkerOptions = {}): Promise<number> {
  let total = 0;
  for (let n = await standardizeBatch(db, options); n > 0; n = await standardizeBatch(db, options)) total += n;
  return total;
}

/**
 * Deletes staging rows a crashed lander left behind (COPY done, landing statement never ran: never acknowledged, so
 * the sender sends again). An hour is far longer than any batch takes between its COPY and its landing statement.
 */
export async function sweepStage(db: Queryable): Promise<number> {
  return (await db.query(`DELETE FROM landing_stage WHERE staged_at < now() - interval '1 hour'`)).rowCount;
}

/**
 * The background loops of a server: standardize landed units as they arrive. `notify()` wakes them after a landing;
 * otherwise each polls every `idleMs`. On start they first finish whatever a previous process left 'landed'. On
 * PostgreSQL `loops` of them run at once, each its own transactions (FOR UPDATE SKIP LOCKED shares the queue); the
 * embedded engine, one transaction at a time, gets one.
 */
export class IngestWorker {
  readonly #db: Db;
  readonly #options: WorkerOptions;
  readonly loops: number;
  #stopped = true;
  readonly #wakes = new Set<() => void>();
  #loop?: Promise<unknown>;
  readonly #batches = new Set<Promise<number>>();
  /** The options its loops run batches with: a stop abandons the batch under way at its next unit. */
  readonly #stoppable: WorkerOptions;

  constructor(db: Db, options: WorkerOptions = {}) {
    this.#db = db;
    this.#options = options;
    this.#stoppable = { ...options, shouldStop: () => this.#stopped || !!options.shouldStop?.() };
    this.loops = db.engine === 'pglite' ? 1 : Math.max(1, Math.floor(options.loops ?? 1));
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = sweepStage(this.#db)
      .catch((err) => this.#options.onError?.(err))
      .then(() => Promise.all(Array.from({ length: this.loops }, () => this.#run())));
  }

  notify(): void {
    for (const wake of [...this.#wakes]) wake();
  }

  /**
   * The batches this worker's loops are standardizing now, if any (resolves when they committed or failed). `drain()`
   * waits for them: their units are locked, so another claim skips them and would find the queue empty while they are
   * still 'landed'.
   */
  get current(): Promise<unknown> | undefined {
    return this.#batches.size ? Promise.allSettled([...this.#batches]) : undefined;
  }

  /**
   * Stops the loops: a batch under way is abandoned at its next unit (rolled back whole, its units stay 'landed' for
   * the next start or drain), so a shutdown waits for one unit's standardization, not a batch's. Resolves once stopped.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.notify();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let n = 0;
      const before = this.#db.started;
      const batch = standardizeBatch(this.#db, this.#stoppable);
      this.#batches.add(batch);
      try {
        n = await batch;
      } catch (err) {
        if (!(err instanceof BatchAbandoned)) this.#options.onError?.(err);
      } finally {
        this.#batches.delete(batch);
      }
      // Statements others started on the embedded engine while this batch ran (the batch's own transaction is one).
      const others = before === undefined ? 0 : this.#db.started! - before - 1;
      if (n > 0 && !this.#stopped && others > 0) {
        // The embedded engine runs one statement or transaction at a time, first come first served, and a batch holds
        // it throughout. Others starting statements meanwhile means requests (HTTP, MLLP) are using it too: each of
        // their statements would otherwise queue behind a whole batch — a FHIR request of ten statements behind ten
        // batches. Leave them the engine for a moment so that a request runs all its statements in one go.
        await new Promise((resolve) => setTimeout(resolve, this.#options.yieldMs ?? 25));
        continue;
      }
      if (n > 0 && !this.#stopped) continue;
      if (this.#stopped) break;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#wakes.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, this.#options.idleMs ?? 1000);
        this.#wakes.add(wake);
      });
    }
  }
}
