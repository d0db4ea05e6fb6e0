import { randomUUID } from 'node:crypto';
// The FHIR module's set-based write path (not in its index.ts: only the worker writes inside someone else's transaction).
import { applyWrites, type WriteOp } from '../fhir/write.ts';
import { createIngest, type Ingest, type IngestOptions, type Standardizer } from '../ingest/index.ts';
import type { AppDeps } from './deps.ts';

// One ingestion runtime (lander, worker, sender cache, MLLP listener) per platform, shared by the HTTP routes and the
// `serve --mllp-port` listener. Keyed by the platform's deps object so two platforms in one process (tests) never
// share a worker; not a module-level singleton of the database.
const runtimes = new WeakMap<AppDeps, Ingest>();

/**
 * The ingestion runtime of this platform, created on first use, with the standardization module's standardizer and
 * the FHIR store as resource writer (`standardization()` below).
 */
export function ingestFor(deps: AppDeps): Ingest {
  let ingest = runtimes.get(deps);
  if (!ingest) {
    ingest = createIngest(deps.db, {
      ...standardization(deps),
      // The embedded engine serves one transaction at a time: smaller worker batches keep ACK latency low.
      batchSize: deps.db.engine === 'pglite' ? 50 : 200,
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

/**
 * The standardizer is the standardization module's shared runtime (the one its operator API confirms mappings into,
 * so the worker maps with the same cache); it is imported on first use because terminology-routes.ts imports this
 * file (no static cycle). Resources are written through the FHIR store's set-based write path inside the worker's
 * transaction, as updates by their stable ids: a retry or a reprocess upserts, never doubles.
 */
function standardization(deps: AppDeps): Pick<IngestOptions, 'standardize' | 'writeResources'> {
  let standardizer: Promise<Standardizer> | undefined;
  return {
    standardize: async (unit, tx) => {
      standardizer ??= import('./terminology-routes.ts').then((m) => m.standardizationFor(deps).standardize);
      return (await standardizer)(unit, tx);
    },
    writeResources: async (tx, resources, unit) => {
      const ops: WriteOp[] = resources.map((resource) => ({ method: 'update', resourceType: resource.resourceType, id: resource.id ?? randomUUID(), resource }));
      await applyWrites(tx, ops, deps.clock.now(), unit.institutionId);
    },
  };
}
