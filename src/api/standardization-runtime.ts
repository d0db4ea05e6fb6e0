import { empiHooks, StandardizationRuntime } from '../standardize/index.ts';
import type { AppDeps } from './deps.ts';

// One standardization runtime per platform (keyed by its deps object, like the ingestion runtime), shared by the
// ingestion worker and the terminology operator routes so that a confirmed mapping is seen by the worker's cache.
const runtimes = new WeakMap<AppDeps, StandardizationRuntime>();

/**
 * The platform's standardization runtime. `standardizationFor(deps).standardize` is the `Standardizer` the ingestion
 * worker takes (src/api/ingest-runtime.ts `standardization()`); the EMPI seams are wired in.
 */
export function standardizationFor(deps: AppDeps): StandardizationRuntime {
  let r = runtimes.get(deps);
  if (!r) runtimes.set(deps, (r = new StandardizationRuntime(empiHooks())));
  return r;
}
