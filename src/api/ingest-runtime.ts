import { createIngest, type Ingest, type IngestOptions } from '../ingest/index.ts';
import type { AppDeps } from './deps.ts';

// One ingestion runtime (lander, worker, sender cache, MLLP listener) per platform, shared by the HTTP routes and the
// `serve --mllp-port` listener. Keyed by the platform's deps object so two platforms in one process (tests) never
// share a worker; not a module-level singleton of the database.
const runtimes = new WeakMap<AppDeps, Ingest>();

/**
 * The ingestion runtime of this platform, created on first use. The standardizer and resource writer come from the
 * standardization / FHIR modules once they are wired in `standardization()` below; until then units are quarantined
 * with reason `standardizer-missing` (nothing is dropped; `healthbrain reprocess` runs them again later).
 */
export function ingestFor(deps: AppDeps): Ingest {
  let ingest = runtimes.get(deps);
  if (!ingest) {
    ingest = createIngest(deps.db, {
      ...standardization(deps),
      onError: (err) => deps.logger.warn({ err }, 'standardization failed'),
      log: { info: (o, m) => deps.logger.info(o, m), warn: (o, m) => deps.logger.warn(o, m) },
    });
    runtimes.set(deps, ingest);
  }
  return ingest;
}

/** Closes the runtime (MLLP listener, then the worker after its current batch). */
export async function closeIngest(deps: AppDeps): Promise<void> {
  const ingest = runtimes.get(deps);
  runtimes.delete(deps);
  await ingest?.close();
}

function standardization(deps: AppDeps): Pick<IngestOptions, 'standardize' | 'writeResources'> {
  void deps;
  return {};
}
