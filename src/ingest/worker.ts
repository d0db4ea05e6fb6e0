import type { Db, Queryable } from '../store/index.ts';
import type { Channel, LandedUnit, QuarantineReason, ResourceWriter, Standardizer, UnitStatus } from './types.ts';

/**
 * Used until the standardization module is wired in: quarantines every unit with reason `standardizer-missing`, so
 * nothing is dropped silently and `reprocess --reason standardizer-missing` picks it all up once a real one exists.
 */
export const quarantineWithoutStandardizer: Standardizer = async () => ({
  quarantine: [{ code: 'standardizer-missing', detail: 'no standardizer is configured on this server' }],
});

export interface WorkerOptions {
  standardize?: Standardizer;
  /** Where standardized resources go (the FHIR repository). Required if the standardizer returns resources. */
  writeResources?: ResourceWriter;
  /** Units claimed per transaction. */
  batchSize?: number;
  /** After this many failed attempts (the standardizer threw) a unit is quarantined with `standardizer-error`. */
  maxAttempts?: number;
  /** Poll interval when idle, ms (a landing also wakes the worker at once through `notify`). */
  idleMs?: number;
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

export function toLandedUnit(r: UnitRow): LandedUnit {
  return {
    id: Number(r.id),
    institutionId: r.institution_id,
    channel: r.channel,
    contentType: r.content_type,
    encoding: r.encoding,
    receivedAt: r.received_at,
    contentHash: r.h,
    content: Buffer.from(r.content.buffer, r.content.byteOffset, r.content.byteLength),
    meta: r.meta ?? {},
    status: r.status,
    attempts: r.attempts,
  };
}

export const UNIT_COLUMNS = `id, institution_id, channel, content_type, encoding, received_at, encode(content_hash, 'hex') AS h,
  content, meta, status, attempts`;

/**
 * Standardizes one batch of landed units: claims up to `batchSize` units still 'landed' with FOR UPDATE SKIP LOCKED
 * (so several workers never take the same unit), runs the standardizer on each, and writes its resources and the
 * unit's new status in the SAME transaction. A crash anywhere before commit leaves the units 'landed' and nothing
 * written; the next run does them again — nothing lost, nothing doubled. Returns the number of units processed.
 */
export async function standardizeBatch(db: Db, options: WorkerOptions = {}): Promise<number> {
  const standardize = options.standardize ?? quarantineWithoutStandardizer;
  const maxAttempts = options.maxAttempts ?? 5;
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<UnitRow>(
      // FHIR Bundles are processed synchronously by the FHIR layer; the worker only rescues one a crash left behind.
      `SELECT ${UNIT_COLUMNS} FROM landed_unit
        WHERE status = 'landed' AND (channel <> 'fhir' OR received_at < now() - interval '2 minutes')
        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [options.batchSize ?? 200],
    );
    for (const row of rows) {
      const unit = toLandedUnit(row);
      // A savepoint per unit: one unit's failure must not undo its neighbours' work.
      await tx.exec('SAVEPOINT unit');
      try {
        const result = await standardize(unit, tx);
        if ('resources' in result) {
          if (result.resources.length && !options.writeResources) throw new Error('no resource writer configured');
          if (result.resources.length) await options.writeResources!(tx, result.resources, unit);
          await setStatus(tx, unit.id, 'standardized', null);
        } else {
          await setStatus(tx, unit.id, 'quarantined', result.quarantine);
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
    return rows.length;
  });
}

// Set per unit, at once (not batched at the end): a later unit of the same batch may requeue this one (a patient
// arriving releases records held as unknown-patient), and that must win.
async function setStatus(tx: Queryable, id: number, status: UnitStatus, reasons: QuarantineReason[] | null) {
  await tx.query(
    `UPDATE landed_unit SET status = $2, reasons = $3::jsonb, last_error = NULL, attempts = attempts + 1, processed_at = now()
     WHERE id = $1`,
    [id, status, reasons ? JSON.stringify(reasons) : null],
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
 * The background loop of a server: standardizes landed units as they arrive. `notify()` wakes it after a landing;
 * otherwise it polls every `idleMs`. On start it first finishes whatever a previous process left 'landed'.
 */
export class IngestWorker {
  readonly #db: Db;
  readonly #options: WorkerOptions;
  #stopped = true;
  #wake?: () => void;
  #loop?: Promise<void>;

  constructor(db: Db, options: WorkerOptions = {}) {
    this.#db = db;
    this.#options = options;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = sweepStage(this.#db)
      .catch((err) => this.#options.onError?.(err))
      .then(() => this.#run());
  }

  notify(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let n = 0;
      try {
        n = await standardizeBatch(this.#db, this.#options);
      } catch (err) {
        this.#options.onError?.(err);
      }
      if (n > 0 && !this.#stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#options.idleMs ?? 1000);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}
