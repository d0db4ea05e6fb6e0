import { Transform } from 'node:stream';
import type { Bundle, BundleEntry, OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor, FhirRequest, FhirResponse } from '../fhir/context.ts';
import type { WriteResult } from '../fhir/write.ts';
import { duplicateBundleResponse, fhirUnitState, isIngestBundle, landFhirBundle, settleFhirBundle, type FhirLanding } from '../ingest/index.ts';
import { quarantineOutcome, standardizeAndWrite, type FhirUnitResult } from '../standardize/index.ts';
import type { AppDeps } from './deps.ts';
import { standardizationFor } from './standardization-runtime.ts';

const RAW = Symbol('rawBody');
type WithRaw = FastifyRequest & { [RAW]?: Buffer };

/**
 * Keeps the bytes of a POST to the FHIR base as they arrived, so a Bundle lands verbatim (not re-serialized JSON).
 * Registered in the FHIR routes' scope; passes the stream through unchanged.
 */
export function captureRawBody(app: FastifyInstance): void {
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (request.method !== 'POST' || !/^\/fhir\/?(\?|$)/.test(request.url)) return payload;
    const chunks: Buffer[] = [];
    const tee = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb(null, chunk);
      },
      flush(cb) {
        (request as WithRaw)[RAW] = Buffer.concat(chunks);
        cb();
      },
    });
    payload.on('error', (err) => tee.destroy(err));
    return payload.pipe(tee);
  });
}

/** Thrown inside the unit's transaction when another process settled the unit first: roll back, answer as done. */
class SettledElsewhere extends Error {}

/**
 * The FHIR channel of issue 4 in front of the FHIR router. A transaction/batch Bundle posted by an institution lands
 * verbatim first; a duplicate of one already processed is answered without processing it twice; otherwise it is
 * standardized synchronously like every other channel's unit (src/standardize: codes recoded through the
 * institution's maps, UCUM, validation, patient register, EMPI) and its resources, its EMPI links and the unit's
 * status commit in one transaction. The answer is a transaction-/batch-response with a location per entry, or, for a
 * quarantined unit, 422 with an OperationOutcome carrying the machine-readable reasons. A Bundle is one unit for
 * batch too (docs/INGEST.md). Other requests, and Bundles of people (clinicians, operators), go to the router.
 */
export async function landThenHandle(
  deps: AppDeps, request: FastifyRequest, actor: Actor, req: FhirRequest, handle: (req: FhirRequest) => Promise<FhirResponse>,
): Promise<FhirResponse> {
  // An institution's system sends data; people (a clinician of an institution, operators) use the FHIR API as such.
  if (req.method !== 'POST' || req.path !== '' || actor.kind !== 'system' || !actor.institutionId || !isIngestBundle(req.body)) return handle(req);
  const bundle = req.body;
  // A Bundle of reads only carries nothing to ingest.
  if (bundle.entry?.length && bundle.entry.every((e) => e.request?.method === 'GET')) return handle(req);
  const landing = await landFhirBundle(deps.db, actor.institutionId, (request as WithRaw)[RAW], bundle);
  if (landing.duplicate && landing.status !== 'landed') return duplicateAnswer(landing);
  const services = await standardizationFor(deps).services(deps.db);
  let result: FhirUnitResult;
  try {
    result = await retryOnDeadlock(() => deps.db.transaction(async (tx) => {
      const r = await standardizeAndWrite(services, landing.unit, tx, bundle, deps.clock.now());
      if (!(await settleFhirBundle(tx, landing.unit.id, r.standardized ? null : r.reasons))) throw new SettledElsewhere();
      return r;
    }));
  } catch (err) {
    // Anything else (a database failure) rolls everything back and leaves the unit 'landed': a resend or the worker
    // (after its crash window) standardizes it.
    if (!(err instanceof SettledElsewhere)) throw err;
    return duplicateAnswer({ ...landing, ...(await fhirUnitState(deps.db, landing.unit.id)) });
  }
  if (!result.standardized) return { outcome: quarantineOutcome(result.reasons, landing.unit.id) };
  const representation = /return=representation/.test(req.headers.prefer ?? '');
  return { outcome: OK, resource: responseBundle(landing, result.entries, representation) };
}

/**
 * Runs the unit's transaction again when PostgreSQL chose it as a deadlock victim or refused it for serialization
 * (40P01, 40001): institutions send concurrently and the EMPI links the same person's Patients across them, so two
 * Bundles may lock the same person rows in opposite orders. Nothing was committed, and the unit is still 'landed'.
 */
async function retryOnDeadlock<T>(run: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (i >= attempts || (code !== '40P01' && code !== '40001')) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** i)); // jittered backoff: the victims part ways
    }
  }
}

const OK: OperationOutcome = { resourceType: 'OperationOutcome', id: 'ok', issue: [{ severity: 'information', code: 'informational' }] };

/** A duplicate of a standardized Bundle: 200 and a response Bundle saying so; of a quarantined one: 422 and its reasons. */
function duplicateAnswer(landing: FhirLanding): FhirResponse {
  if (landing.status === 'quarantined') {
    return { outcome: quarantineOutcome(landing.reasons ?? [], landing.unit.id, `duplicate of landed unit ${landing.unit.id}, quarantined earlier; not processed again`) };
  }
  return { outcome: OK, resource: duplicateBundleResponse(landing) };
}

/**
 * transaction-response / batch-response (https://hl7.org/fhir/R4/http.html#transaction-response): per entry, in the
 * order posted, the stored standardized resource's location, version and time (the resource itself only with
 * `Prefer: return=representation`); an Organization/Practitioner entry is not stored (references to it become the
 * submitting institution's Organization) and says so.
 */
function responseBundle(landing: FhirLanding, entries: Array<WriteResult | undefined>, representation: boolean): Bundle {
  return {
    resourceType: 'Bundle',
    type: landing.bundleType === 'batch' ? 'batch-response' : 'transaction-response',
    entry: entries.map((w): BundleEntry => {
      const r = w?.resource;
      if (!w || !r) {
        return { response: { status: '200 OK', outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', details: { text: 'not stored: the submitting institution stands for it' } }] } } };
      }
      return {
        ...(representation ? { resource: r } : {}),
        response: {
          status: w.status === 201 ? '201 Created' : '200 OK', location: `${r.resourceType}/${r.id}/_history/${r.meta?.versionId}`,
          etag: `W/"${r.meta?.versionId}"`, lastModified: r.meta?.lastUpdated,
        },
      };
    }),
  };
}
