import type { LandedUnit, StandardizeResult, Standardizer } from '../ingest/index.ts';
import type { Db, Queryable } from '../store/index.ts';
import type { StandardizeServices } from './context.ts';
import { createStandardizer, openStandardization } from './standardizer.ts';

type Hooks = Pick<StandardizeServices, 'matchPatient' | 'mergePatients' | 'now'>;

/**
 * One set of standardization services per platform, shared by the ingestion worker (its `standardize`) and the
 * operator API (unmapped list, confirmations, imports), so a confirmed mapping is seen by the very cache the worker
 * maps with. Loaded on first use from whichever asks first — inside the worker's transaction when that is first,
 * because the embedded engine serves one transaction at a time.
 */
export class StandardizationRuntime {
  readonly #hooks: Hooks;
  #services?: Promise<StandardizeServices>;
  #standardize?: Standardizer;

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

  /** The `Standardizer` for src/ingest's worker. */
  readonly standardize: Standardizer = async (unit: LandedUnit, tx: Queryable): Promise<StandardizeResult> => {
    if (!this.#standardize) this.#standardize = createStandardizer(await this.services(tx));
    return this.#standardize(unit, tx);
  };
}
