import { randomUUID } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
// The FHIR module's set-based write path (not in its index.ts: only the worker writes inside someone else's transaction).
import { applyWrites, type WriteOp } from '../fhir/write.ts';
import { createIngest, type Ingest, type IngestOptions, type LandedUnit, type Standardizer } from '../ingest/index.ts';
// The worker's batch contract (not in src/ingest's index.ts: only this wiring and the benchmark use it).
import { DEFAULT_BATCH_SIZE, type BatchAware } from '../ingest/worker.ts';
import type { Db, Queryable } from '../store/index.ts';
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
      batchSize: workerBatchSize(deps.db.engine),
      loops: workerLoops(deps.db.engine, deps.config.ingestWorkers),
      onBatchRedone: (err, units) => deps.logger.warn({ err, units }, 'standardization batch redone unit by unit'),
      onError: (err) => deps.logger.warn({ err }, 'standardization failed'),
      log: { info: (o, m) => deps.logger.info(o, m), warn: (o, m) => deps.logger.warn(o, m) },
    });
    runtimes.set(deps, ingest);
  }
  return ingest;
}

/**
 * Units per worker transaction. The embedded engine serves one transaction at a time: smaller batches keep ACK latency
 * low there. On PostgreSQL the worker's default (500: per-batch statements amortised over more units).
 */
export function workerBatchSize(engine: Db['engine']): number {
  return engine === 'pglite' ? 50 : DEFAULT_BATCH_SIZE;
}

/**
 * Worker loops of this server (`serve --ingest-workers N`, HEALTHBRAIN_INGEST_WORKERS): the embedded engine serves one
 * transaction at a time, so 1 there; on PostgreSQL the configured number, else DEFAULT_WORKER_LOOPS.
 */
export function workerLoops(engine: Db['engine'], configured?: number): number {
  return engine === 'pglite' ? 1 : (configured ?? DEFAULT_WORKER_LOOPS);
}

/** Worker loops on PostgreSQL by default (docs/INGEST.md: measured on 2 cores). */
export const DEFAULT_WORKER_LOOPS = 1;

/** Closes the runtime (MLLP listener, then the worker after its current batch). */
export async function closeIngest(deps: AppDeps): Promise<void> {
  const ingest = runtimes.get(deps);
  runtimes.delete(deps);
  const started = Date.now();
  await ingest?.close();
  if (ingest) deps.logger.info({ ms: Date.now() - started }, 'ingestion stopped (MLLP listener closed, worker stopped)');
}

/**
 * The standardizer is the standardization module's shared runtime (the one its operator API confirms mappings into,
 * so the worker maps with the same cache); it is imported on first use because terminology-routes.ts imports this
 * file (no static cycle). Resources are written through the FHIR store's set-based write path inside the worker's
 * transaction, as updates by their stable ids: a retry or a reprocess upserts, never doubles.
 */
function standardization(deps: AppDeps): Pick<IngestOptions, 'standardize' | 'writeResources' | 'writeBatch'> {
  let standardizer: Promise<Standardizer & BatchAware> | undefined;
  // The services are loaded on the platform's database, never inside the worker's transaction: the FHIR channel may
  // have started the same load on the database, which on the embedded engine waits for that transaction to end.
  const load = () => (standardizer ??= import('./terminology-routes.ts').then(async (m) => {
    const runtime = m.standardizationFor(deps);
    await runtime.services(deps.db);
    return runtime.standardize;
  }).catch((err) => {
    standardizer = undefined; // a failed load (database down) is tried again by the next batch
    throw err;
  }));
  const standardize: Standardizer & BatchAware = Object.assign(async (unit: LandedUnit, tx: Queryable) => (await load())(unit, tx), {
    prepare: async () => void (await load()),
    // The runtime's batch (unmapped-code sightings, EMPI matches left to its end) — see BatchAware in the worker.
    // Runs before the first unit's standardize: callbacks on the one loading promise run in the order they were added
    // (a failed load is reported by standardize itself).
    beginBatch: (tx: Queryable, units?: readonly LandedUnit[]) => void load().then((s) => s.beginBatch?.(tx, units), () => undefined),
    endBatch: async (tx: Queryable) => (await load()).endBatch?.(tx),
  });
  return {
    standardize,
    ...fhirStoreWriter(() => deps.clock.now()),
  };
}

/**
 * The worker's resource writers onto the FHIR store (also used by the ingest benchmark). A batch at once: one
 * set-based write per institution (the institution is a column of every row), the units' resources in their order, so
 * a resource rebuilt by a later unit (a lab report listing one more item) ends as the current version.
 */
export function fhirStoreWriter(now: () => Date): Pick<IngestOptions, 'writeResources' | 'writeBatch'> {
  const ops = (resources: Resource[]): WriteOp[] =>
    resources.map((resource) => ({ method: 'update', resourceType: resource.resourceType, id: resource.id ?? randomUUID(), resource }));
  return {
    writeResources: async (tx, resources, unit) => {
      await applyWrites(tx, ops(resources), now(), unit.institutionId);
    },
    writeBatch: async (tx, units) => {
      const at = now();
      const byInstitution = new Map<string, Resource[]>();
      for (const { unit, resources } of units) {
        const list = byInstitution.get(unit.institutionId) ?? [];
        list.push(...resources);
        byInstitution.set(unit.institutionId, list);
      }
      for (const [institutionId, resources] of byInstitution) await applyWrites(tx, ops(resources), at, institutionId);
    },
  };
}
