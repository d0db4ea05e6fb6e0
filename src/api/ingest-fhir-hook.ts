import { Transform } from 'node:stream';
import type { Bundle, BundleEntry, OperationOutcome } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor, FhirRequest, FhirResponse } from '../fhir/context.ts';
import type { WriteResult } from '../fhir/write.ts';
import {
  AHEAD_CAP, duplicateBundleResponse, fhirUnitState, isIngestBundle, landFhirBundle, settleFhirBundle, storedEntries, unitStatusReport, type FhirLanding,
} from '../ingest/index.ts';
import { entryIndex, heldOutcome, onlyHeld, PatientArrivedMeanwhile, quarantineOutcome, standardizeAndWrite, type FhirUnitResult, type StdReason } from '../standardize/index.ts';
import { isTransientConflict } from '../store/index.ts';
import type { AppDeps } from './deps.ts';
import { ingestFor } from './ingest-runtime.ts';
import { declaredCharset } from './input-guards.ts';
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
 *
 * With `Prefer: respond-async` (FHIR asynchronous request pattern, https://hl7.org/fhir/R4/async.html) the Bundle is
 * only landed — marked for the worker, which is woken and standardizes it in its next batch — and answered at once:
 * 202 Accepted, `Content-Location` = the unit's status URL (`unitStatusAnswer`). A duplicate is answered the same
 * way, with the status URL of the unit landed before (settled or not).
 */
export async function landThenHandle(
  deps: AppDeps, request: FastifyRequest, actor: Actor, req: FhirRequest, handle: (req: FhirRequest) => Promise<FhirResponse>,
): Promise<FhirResponse> {
  // An institution's system sends data; people (a clinician of an institution, operators) use the FHIR API as such.
  if (req.method !== 'POST' || req.path !== '' || actor.kind !== 'system' || !actor.institutionId || !isIngestBundle(req.body)) return handle(req);
  const bundle = req.body;
  // A Bundle of reads only carries nothing to ingest.
  if (bundle.entry?.length && bundle.entry.every((e) => e.request?.method === 'GET')) return handle(req);
  const encoding = declaredCharset(request.headers['content-type']); // the bytes land as sent, with their charset
  if (prefersAsync(req.headers.prefer)) {
    const landing = await landFhirBundle(deps.db, actor.institutionId, (request as WithRaw)[RAW], bundle, { respondAsync: true, encoding });
    if (landing.status === 'landed') ingestFor(deps).worker.notify();
    return accepted(statusUrl(deps, request, landing.unit.id), landing);
  }
  const landing = await landFhirBundle(deps.db, actor.institutionId, (request as WithRaw)[RAW], bundle, { encoding });
  const url = statusUrl(deps, request, landing.unit.id);
  if (landing.duplicate && landing.status !== 'landed') return duplicateAnswer(landing, url);
  const services = await standardizationFor(deps).services(deps.db);
  let result: FhirUnitResult;
  try {
    result = await retryOnDeadlock(() => deps.db.transaction(async (tx) => {
      const r = await standardizeAndWrite(services, landing.unit, tx, bundle, deps.clock.now());
      const refs = r.standardized ? r.entries.map((w) => (w?.resource ? `${w.resource.resourceType}/${w.resource.id}` : null)) : undefined;
      if (!(await settleFhirBundle(tx, landing.unit.id, r.standardized ? null : r.reasons, refs))) throw new SettledElsewhere();
      return r;
    }));
  } catch (err) {
    // Anything else (a database failure) rolls everything back and leaves the unit 'landed': a resend or the worker
    // (after its crash window) standardizes it.
    if (!(err instanceof SettledElsewhere)) throw err;
    return duplicateAnswer({ ...landing, ...(await fhirUnitState(deps.db, landing.unit.id)) }, url);
  }
  if (!result.standardized) {
    // Held only for what the platform resolves itself (a local code's map, a patient's arrival): accepted, 202.
    if (onlyHeld(result.reasons)) return { outcome: heldOutcome(result.reasons, landing.unit.id, url), headers: { 'content-location': url } };
    return { outcome: quarantineOutcome(result.reasons, landing.unit.id) };
  }
  const prefer = req.headers.prefer ?? '';
  const representation = /return=representation/.test(prefer);
  const outcomes = /return=OperationOutcome/i.test(prefer) ? result.notes : undefined;
  return { outcome: OK, resource: responseBundle(landing, result.entries, representation, outcomes) };
}

/** RFC 7240 `Prefer: respond-async` (among other preferences, any case). */
export function prefersAsync(prefer: string | undefined): boolean {
  return !!prefer && prefer.split(',').some((p) => p.split(';')[0].trim().toLowerCase() === 'respond-async');
}

/** The path of a landed unit's status URL (the route is in ingest-routes.ts). */
export const UNIT_STATUS_PATH = '/ingest/units/';

/** Absolute status URL of a unit (HEALTHBRAIN_PUBLIC_URL behind a proxy, else the request's own scheme and host). */
function statusUrl(deps: AppDeps, request: FastifyRequest, unitId: number): string {
  return `${deps.config.publicUrl ?? `${request.protocol}://${request.host}`}${UNIT_STATUS_PATH}${unitId}`;
}

/** 202 Accepted + Content-Location (the FHIR async kick-off answer); the body says which unit and what happens next. */
function accepted(url: string, landing: FhirLanding): FhirResponse {
  const text = landing.status === 'landed'
    ? `landed as unit ${landing.unit.id}${landing.duplicate ? ' (a duplicate of the unit landed before)' : ''}; standardized by the platform's worker — poll ${url}`
    : `duplicate of landed unit ${landing.unit.id}, already ${landing.status}; not processed again — its outcome is at ${url}`;
  return {
    outcome: { resourceType: 'OperationOutcome', id: 'accepted', issue: [{ severity: 'information', code: 'informational', details: { text }, diagnostics: url }] },
    headers: { 'content-location': url },
  };
}

/** The answer of a unit's status URL: HTTP status, body, extra headers. */
export interface UnitStatusAnswer {
  status: number;
  body: Bundle | OperationOutcome;
  headers: Record<string, string>;
}

/**
 * The status URL of a landed unit (FHIR asynchronous request pattern), for the institution that sent it or an
 * operator (the route checks who asks; undefined = no such unit). While the unit waits for the worker: 202 with
 * `X-Progress` (its place in the queue) and `Retry-After`. Standardized: 200 and, for a FHIR Bundle, the
 * transaction-/batch-response the synchronous path answers — a location (`Type/id/_history/n`), etag and
 * lastModified per posted entry, read back from the FHIR store's history by the version this unit wrote (not the
 * resource itself: `return=representation` is not honoured asynchronously; each location is read through the FHIR API,
 * where reads are audited). Quarantined: 422 and the OperationOutcome with the reasons, as the synchronous answer —
 * a final, not a transient, error (4xx: a polling client stops). The verdict may change later: a quarantined unit
 * released by a confirmed mapping, a patient's arrival or `reprocess` goes back to 202, then 200.
 */
export async function unitStatusAnswer(deps: AppDeps, unitId: number, isAllowed: (institutionId: string) => boolean): Promise<UnitStatusAnswer | undefined> {
  const report = await unitStatusReport(deps.db, unitId);
  if (!report || !isAllowed(report.institutionId)) return undefined;
  if (report.status === 'landed') {
    const ahead = report.ahead ?? 0;
    const progress = `landed ${report.receivedAt.toISOString()}, waiting for standardization: ${ahead >= AHEAD_CAP ? `${AHEAD_CAP}+` : ahead} units ahead`;
    return {
      status: 202,
      body: { resourceType: 'OperationOutcome', id: 'accepted', issue: [{ severity: 'information', code: 'informational', details: { text: progress } }] },
      headers: { 'x-progress': progress, 'retry-after': '1' },
    };
  }
  if (report.status === 'quarantined') {
    const reasons = (report.reasons ?? []) as StdReason[];
    if (onlyHeld(reasons)) {
      // Held for maps or patients (issue 17): still accepted — the answer the synchronous path gave, polled slowly.
      const progress = `held: ${reasons.length} reason(s) waiting for a map or a patient; stored once resolved`;
      return { status: 202, body: heldOutcome(reasons, report.id, undefined), headers: { 'x-progress': progress, 'retry-after': '60' } };
    }
    return { status: 422, body: quarantineOutcome(reasons, report.id), headers: {} };
  }
  if (report.channel !== 'fhir') {
    return { status: 200, body: { ...OK, issue: [{ severity: 'information', code: 'informational', details: { text: `landed unit ${report.id} standardized` } }] }, headers: {} };
  }
  const stored = await storedEntries(deps.db, report);
  const type = report.bundleType === 'batch' ? 'batch-response' : 'transaction-response';
  if (!stored) {
    // Standardized before per-entry locations were recorded (migration 0211): say so for each entry.
    const note = `standardized as landed unit ${report.id}; the locations of its entries were not recorded`;
    return { status: 200, body: { resourceType: 'Bundle', type, entry: Array.from({ length: report.records }, () => ({ response: { status: '200 OK', outcome: info(note) } })) }, headers: {} };
  }
  return {
    status: 200,
    body: {
      resourceType: 'Bundle', type,
      entry: stored.map((e): BundleEntry => {
        if (!e) return { response: { status: '200 OK', outcome: info(NOT_STORED) } };
        const at = e.versionId === undefined ? `${e.resourceType}/${e.id}` : `${e.resourceType}/${e.id}/_history/${e.versionId}`;
        return {
          response: {
            status: e.created ? '201 Created' : '200 OK', location: at,
            ...(e.versionId === undefined ? {} : { etag: `W/"${e.versionId}"` }), ...(e.lastUpdated ? { lastModified: e.lastUpdated.toISOString() } : {}),
          },
        };
      }),
    },
    headers: {},
  };
}

const NOT_STORED = 'not stored: the submitting institution stands for it';
const info = (text: string): OperationOutcome => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', details: { text } }] });

/**
 * Runs the unit's transaction again when PostgreSQL chose it as a deadlock victim or refused it for serialization
 * (40P01, 40001): institutions send concurrently and the EMPI links the same person's Patients across them, so two
 * Bundles may lock the same person rows in opposite orders. Nothing was committed, and the unit is still 'landed'.
 * Also when a patient the Bundle refers to was registered by a concurrent transaction after this one looked it up
 * (PatientArrivedMeanwhile): run again, the Bundle finds the patient instead of being held for it.
 */
async function retryOnDeadlock<T>(run: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run();
    } catch (err) {
      if (i >= attempts || !(isTransientConflict(err) || err instanceof PatientArrivedMeanwhile)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** i)); // jittered backoff: the victims part ways
    }
  }
}

const OK: OperationOutcome = { resourceType: 'OperationOutcome', id: 'ok', issue: [{ severity: 'information', code: 'informational' }] };

/**
 * A duplicate of a standardized Bundle: 200 and a response Bundle saying so; of a quarantined one: 422 and its reasons
 * — or, held only for maps or patients, 202 and what it waits for, as the first answer.
 */
function duplicateAnswer(landing: FhirLanding, url: string): FhirResponse {
  if (landing.status === 'quarantined' && onlyHeld(landing.reasons ?? [])) {
    const note = `duplicate of landed unit ${landing.unit.id}, held earlier; not processed again — poll ${url}`;
    return { outcome: heldOutcome((landing.reasons ?? []) as StdReason[], landing.unit.id, url, note), headers: { 'content-location': url } };
  }
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
function responseBundle(
  landing: FhirLanding, entries: Array<WriteResult | undefined>, representation: boolean, notes?: Array<{ element: string; text: string }>,
): Bundle {
  // `Prefer: return=OperationOutcome` (https://hl7.org/fhir/R4/http.html#ops): each entry's response carries an
  // outcome — what was accepted with a remark (a standard code without a reporting map …), else that it was stored.
  const byEntry = new Map<number, OperationOutcome['issue']>();
  for (const n of notes ?? []) {
    const i = entryIndex(n.element);
    if (i !== undefined) byEntry.set(i, [...(byEntry.get(i) ?? []), { severity: 'information', code: 'informational', details: { text: n.text }, expression: [n.element] }]);
  }
  return {
    resourceType: 'Bundle',
    type: landing.bundleType === 'batch' ? 'batch-response' : 'transaction-response',
    entry: entries.map((w, i): BundleEntry => {
      const r = w?.resource;
      if (!w || !r) {
        return { response: { status: '200 OK', outcome: info(NOT_STORED) } };
      }
      const issues = byEntry.get(i);
      return {
        ...(representation ? { resource: r } : {}),
        response: {
          status: w.status === 201 ? '201 Created' : '200 OK', location: `${r.resourceType}/${r.id}/_history/${r.meta?.versionId}`,
          etag: `W/"${r.meta?.versionId}"`, lastModified: r.meta?.lastUpdated,
          ...(notes ? { outcome: issues ? { resourceType: 'OperationOutcome', issue: issues } : info('stored') } : {}),
        },
      };
    }),
  };
}
