import type { BatchEnd, LandedUnit, StandardizeResult } from '../ingest/index.ts';
import type { Db, Queryable } from '../store/index.ts';
import type { StandardizeServices } from './context.ts';
import { createStandardizer, openStandardization, type BatchStandardizer } from './standardizer.ts';

type Hooks = Pick<StandardizeServices, 'matchPatient' | 'matchPatients' | 'mergePatients' | 'lockPatients' | 'now'>;

/**
 * One set of standardization services per platform, shared by the ingestion worker (its `standardize`) and the
 * operator API (unmapped list, confirmations, imports), so a confirmed mapping is seen by the very cache the worker
 * maps with. Loaded on first use from whichever asks first. The platform's worker loads them on the database before
 * its first transaction (src/api/ingest-runtime.ts): on the embedded engine, which serves one transaction at a time, a
 * transaction waiting for a load that runs on the database outside it would wait forever.
 */
export class StandardizationRuntime {
  readonly #hooks: Hooks;
  #services?: Promise<StandardizeServices>;
  #standardize?: BatchStandardizer;
  /** Batches begun before the services were loaded (the first unit loads them, inside the batch's transaction), with their units. */
  readonly #pendingBatches = new WeakMap<Queryable, readonly LandedUnit[] | undefined>();

  constructor(hooks: Hooks = {}) {
    this.#hooks = hooks;
  }

  services(q: Db | Queryable): Promise<StandardizeServices> {
    this.#services ??= openStandardization(q, this.#hooks).catch((err) => {
      this.#services = undefined;
      throw err;
    });
    return this.#services;
  }

  async #ready(tx: Queryable): Promise<BatchStandardizer> {
    // Assigned only after the await: loops whose first batches begin together all wait for the same load, and each
    // must then get the ONE standardizer — a second one would take the batches begun on the first, whose deferred
    // registrations, holds and EMPI matches the first keeps for its `endBatch`, which would never come.
    const services = await this.services(tx);
    this.#standardize ??= createStandardizer(services);
    if (this.#pendingBatches.has(tx)) {
      const units = this.#pendingBatches.get(tx);
      this.#pendingBatches.delete(tx);
      this.#standardize.beginBatch(tx, units);
    }
    return this.#standardize;
  }

  /**
   * The `Standardizer` for src/ingest's worker. Batch-aware (createStandardizer): between the worker's `beginBatch` and
   * `endBatch` it leaves the unmapped-code sightings and the EMPI matches of the transaction to its end.
   */
  readonly standardize: BatchStandardizer = Object.assign(
    async (unit: LandedUnit, tx: Queryable): Promise<StandardizeResult> => {
      return (await this.#ready(tx))(unit, tx);
    },
    {
      beginBatch: (tx: Queryable, units?: readonly LandedUnit[]): void => void this.#pendingBatches.set(tx, units),
      endBatch: async (tx: Queryable): Promise<BatchEnd> => {
        if (this.#pendingBatches.delete(tx)) return {}; // no unit came: nothing deferred
        return (await this.#standardize?.endBatch(tx)) ?? {};
      },
    },
  );
}
