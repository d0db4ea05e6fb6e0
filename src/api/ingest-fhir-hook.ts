import { Transform } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor, FhirRequest, FhirResponse } from '../fhir/context.ts';
import { duplicateBundleResponse, isIngestBundle, landFhirBundle, settleFhirBundle } from '../ingest/index.ts';
import type { AppDeps } from './deps.ts';

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

/**
 * The FHIR channel of issue 4 around the FHIR router: a transaction/batch Bundle posted by an institution lands
 * verbatim first; a duplicate of one already processed is answered without processing it twice; otherwise the router
 * processes it (with `meta.source` lineage on each resource) and the landed unit is settled by the outcome.
 */
export async function landThenHandle(
  deps: AppDeps, request: FastifyRequest, actor: Actor, req: FhirRequest, handle: (req: FhirRequest) => Promise<FhirResponse>,
): Promise<FhirResponse> {
  if (req.method !== 'POST' || req.path !== '' || !actor.institutionId || !isIngestBundle(req.body)) return handle(req);
  const landing = await landFhirBundle(deps.db, actor.institutionId, (request as WithRaw)[RAW], req.body);
  if (landing.duplicate && landing.status !== 'landed') {
    return { outcome: { resourceType: 'OperationOutcome', id: 'ok', issue: [{ severity: 'information', code: 'informational' }] }, resource: duplicateBundleResponse(landing) };
  }
  let res: FhirResponse;
  try {
    res = await handle({ ...req, body: landing.body });
  } catch (err) {
    const outcome = (err as { outcome?: FhirResponse['outcome'] }).outcome;
    if (outcome?.resourceType === 'OperationOutcome') await settleFhirBundle(deps.db, landing, false, outcome);
    throw err; // anything else leaves the unit 'landed': the worker retries it after a crash window
  }
  await settleFhirBundle(deps.db, landing, deps.fhir.status(res.outcome) < 400, res.outcome);
  return res;
}
