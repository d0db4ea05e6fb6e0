import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { findInstitution, listInstitutions, OPERATOR_ROLES } from '../auth/index.ts';
import {
  addHl7Sender, CsvColumnsError, Hl7SenderError, type Hl7Sender, feedCounts, feedSummaries, ingestCsv, listHl7Senders, listQuarantine, quarantineSummary, reprocess,
} from '../ingest/index.ts';
import { decide } from '../access/index.ts';
import { Hl7MessageTooLarge } from '../ingest/index.ts';
import { authenticate, requireOperator } from './authenticate.ts';
import type { AppDeps } from './deps.ts';
import { HttpError } from './errors.ts';
import { UNIT_STATUS_PATH, unitStatusAnswer } from './ingest-fhir-hook.ts';
import { closeIngest, ingestFor } from './ingest-runtime.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const HL7_TYPES = ['x-application/hl7-v2+er7', 'application/hl7-v2', 'text/plain', 'application/octet-stream'];
/** Messages up to which an HL7 upload's answer also lists each ACK code in `x-hl7-ack-codes` (3 bytes each). */
const ACK_CODES_HEADER_MAX = 1000;

/**
 * The institution an upload lands as, by the access decision: an institution's system only as itself; an operator or
 * the admin on an institution's behalf (`?institution=`, its id or code).
 */
async function institutionOf(deps: AppDeps, request: FastifyRequest): Promise<string> {
  const actor = await authenticate(deps, request);
  const ref = str((request.query as Record<string, unknown> | undefined)?.institution);
  const asked = ref ? (await findInstitution(deps.db, ref)).id : undefined;
  const d = await decide(deps.db, actor, { kind: 'ingest-upload', institutionId: asked }, { now: deps.clock.now() });
  if (!d.allowed) throw new HttpError('forbidden', d.text);
  return (asked ?? actor.institutionId) as string;
}

/**
 * The ingestion channels over HTTP and their operator API (issue 4). Thin: the logic is in src/ingest.
 *
 *   POST /ingest/hl7                       institution token; body: one or more HL7 v2 messages, streamed and landed in
 *                                          chunks → their ACKs (CR-separated); x-hl7-ack-counts: AA=n,AR=n,AE=n (and
 *                                          x-hl7-ack-codes, one per message, up to 1,000 messages); 503 + Retry-After
 *                                          when the upload cannot be admitted or the server is shutting down
 *   POST /ingest/csv?table=T&file=NAME     institution token; body: a core-table CSV, streamed → {received, landed, …}; 503 likewise
 *   GET  /ingest/units/:id                 the status URL of a landed unit (a `Prefer: respond-async` Bundle's
 *                                          Content-Location): 202 + X-Progress while queued, then 200 + the
 *                                          transaction-response, or 422 + the quarantine OperationOutcome. The sending
 *                                          institution's system token, or an operator; another institution gets 404.
 *   DELETE /ingest/units/:id               refused, 405: a landed unit is kept and counted (nothing is lost)
 *   GET  /admin/feeds[?institution=I]      per institution: received, standardized, quarantined, duplicates, pending, last received
 *   GET  /admin/feeds/daily?institution=&day=YYYY-MM-DD   per institution and UTC day, with pending (the reconciliation)
 *   GET  /admin/quarantine?institution=&reason=&limit=   → {summary: [{institution_id, reason, units}], units: […]}
 *   POST /admin/reprocess {institution?, reason?}        → {requeued}
 *   POST /admin/hl7-senders {institution, msh3, msh4, addresses?, secret? | generate_secret?, cert_fingerprint?}
 *                                          → the sender (a generated secret shown once) · GET /admin/hl7-senders
 *   GET  /admin/ingest                     → {mllp_port (so `replay` can find the MLLP listener), mllp: refusals,
 *                                          framing errors and closed connections counted since start (MllpCounters)}
 */
const senderJson = (s: Hl7Sender) => ({
  institution_id: s.institutionId, msh3: s.msh3, msh4: s.msh4, addresses: s.allowedAddresses, has_secret: !!s.secretHash, cert_fingerprint: s.certFingerprint ?? null,
});

export function ingestRoutes(app: FastifyInstance, deps: AppDeps): void {
  const ingest = ingestFor(deps);
  // Shutdown: uploads stop between chunks (503) and the worker after its batch while in-flight requests finish.
  app.addHook('preClose', async () => ingest.beginShutdown());
  app.addHook('onClose', async () => closeIngest(deps));
  const preHandler = requireOperator(deps);

  // HL7 and CSV bodies stream straight to their readers (landed in chunks, read no faster than they land); HL7 bytes
  // are GBK or UTF-8, detected per message.
  app.addContentTypeParser(HL7_TYPES, (_r, payload, done) => done(null, payload));
  app.addContentTypeParser(['text/csv', 'application/csv'], (_r, payload, done) => done(null, payload));
  const streamed = (body: unknown): body is AsyncIterable<Buffer> => !!body && typeof body === 'object' && Symbol.asyncIterator in body;

  app.post('/ingest/hl7', async (request, reply) => {
    const institutionId = await institutionOf(deps, request);
    if (!streamed(request.body)) throw new HttpError('unsupported-media-type', `send HL7 v2 as ${HL7_TYPES[0]}`);
    let result;
    try {
      result = await ingest.receiveHl7Http(institutionId, request.body);
    } catch (err) {
      if (err instanceof Hl7MessageTooLarge) throw new HttpError('body-too-large', err.message);
      throw err;
    }
    const { replies, counts } = result;
    // Per-message codes only while the header stays small: HTTP clients refuse large headers (undici: 16 kB in all), and
    // a whole file's codes were what made the county replay's multi-MB uploads fail. The body has every ACK (MSA-1).
    if (replies.length <= ACK_CODES_HEADER_MAX) reply.header('x-hl7-ack-codes', replies.map((r) => r.code).join(','));
    reply.header('x-hl7-ack-counts', Object.entries(counts).map(([code, n]) => `${code}=${n}`).join(','));
    return reply.type('x-application/hl7-v2+er7').send(Buffer.concat(replies.flatMap((r, i) => (i ? [Buffer.from('\r'), r.ack] : [r.ack]))));
  });

  app.post<{ Querystring: { table?: string; file?: string; institution?: string } }>('/ingest/csv', async (request) => {
    const institutionId = await institutionOf(deps, request);
    const body = request.body;
    if (!streamed(body)) throw new HttpError('unsupported-media-type', 'send the CSV as text/csv');
    try {
      return await ingest.uploads.run(() => ingestCsv(body, {
        institutionId, table: str(request.query.table), fileName: str(request.query.file), land: ingest.landBulk, concurrency: ingest.bulkConcurrency,
      }));
    } catch (err) {
      if (err instanceof CsvColumnsError) throw new HttpError('bad-request', err.message);
      if (err instanceof Error && /core table|empty CSV/.test(err.message)) throw new HttpError('bad-request', err.message);
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>(`${UNIT_STATUS_PATH}:id`, async (request, reply) => {
    const actor = await authenticate(deps, request);
    const operator = !!actor.role && OPERATOR_ROLES.includes(actor.role);
    if (!operator && !(actor.kind === 'system' && actor.institutionId)) {
      throw new HttpError('forbidden', 'the status of a landed unit is for the institution that sent it (its system token) and operators');
    }
    const id = /^\d{1,15}$/.test(request.params.id) ? Number(request.params.id) : 0;
    // Not the sender's: answered as if it did not exist (unit ids are sequential; their existence is not for others).
    const answer = await unitStatusAnswer(deps, id, (institutionId) => operator || institutionId === actor.institutionId);
    if (!answer) throw new HttpError('not-found', `no landed unit ${request.params.id} of yours`);
    for (const [k, v] of Object.entries(answer.headers)) reply.header(k, v);
    return reply.code(answer.status).type('application/fhir+json; charset=utf-8').send(JSON.stringify(answer.body));
  });

  // FHIR async lets a server refuse to cancel. Here the Bundle is landed: kept verbatim and counted in received =
  // standardized + quarantined + duplicates; cancelling would lose it. A sender corrects by sending a corrected Bundle.
  app.delete(`${UNIT_STATUS_PATH}:id`, async (request, reply) => {
    await authenticate(deps, request);
    reply.header('allow', 'GET');
    throw new HttpError('method-not-allowed', 'a landed unit cannot be cancelled: it is kept and counted (nothing is lost); send a corrected Bundle instead');
  });

  app.get<{ Querystring: { institution?: string } }>('/admin/feeds', { preHandler }, async (request) => {
    const ref = str(request.query.institution);
    const institutions = ref ? [await findInstitution(deps.db, ref)] : await listInstitutions(deps.db);
    const counts = new Map((await feedSummaries(deps.db, ref ? institutions[0].id : undefined)).map((s) => [s.institutionId, s]));
    return institutions.map((i) => {
      const c = counts.get(i.id);
      return {
        // The contract checker parses received/standardized/quarantined/duplicates. pending (landed, not yet standardized)
        // comes from the same statement, so received = standardized + quarantined + duplicates + pending at every moment.
        institution_id: i.id, institution_name: i.name,
        received: c?.received ?? 0, standardized: c?.standardized ?? 0, quarantined: c?.quarantined ?? 0,
        duplicates: c?.duplicates ?? 0, pending: c?.pending ?? 0, last_received_at: c?.lastReceivedAt ?? null,
      };
    });
  });

  app.get<{ Querystring: { institution?: string; day?: string } }>('/admin/feeds/daily', { preHandler }, async (request) => {
    const ref = str(request.query.institution);
    const day = str(request.query.day);
    if (day && !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new HttpError('bad-request', 'day must be YYYY-MM-DD');
    const rows = await feedCounts(deps.db, { institution: ref ? (await findInstitution(deps.db, ref)).id : undefined, day });
    return rows.map((c) => ({
      institution_id: c.institutionId, day: c.day, received: c.received, standardized: c.standardized, quarantined: c.quarantined,
      duplicates: c.duplicates, pending: c.pending, last_received_at: c.lastReceivedAt?.toISOString() ?? null,
    }));
  });

  app.get<{ Querystring: { institution?: string; reason?: string; limit?: string } }>('/admin/quarantine', { preHandler }, async (request) => {
    const ref = str(request.query.institution);
    const filter = { institution: ref ? (await findInstitution(deps.db, ref)).id : undefined, reason: str(request.query.reason) };
    const limit = Math.min(Number(request.query.limit ?? 100) || 100, 10_000);
    return {
      summary: (await quarantineSummary(deps.db, filter)).map((s) => ({ institution_id: s.institutionId, reason: s.reason, units: s.units })),
      units: (await listQuarantine(deps.db, filter, limit)).map((u) => ({
        id: u.id, institution_id: u.institutionId, channel: u.channel, received_at: u.receivedAt.toISOString(), reasons: u.reasons, meta: u.meta,
      })),
    };
  });

  app.post('/admin/reprocess', { preHandler }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const ref = str(body.institution);
    const requeued = await reprocess(deps.db, { institution: ref ? (await findInstitution(deps.db, ref)).id : undefined, reason: str(body.reason) });
    ingest.worker.notify();
    return { requeued };
  });

  app.post('/admin/hl7-senders', { preHandler }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const ref = str(body.institution);
    const msh3 = str(body.msh3);
    const msh4 = str(body.msh4);
    if (!ref || !msh3 || !msh4) throw new HttpError('bad-request', 'institution, msh3 and msh4 are required');
    const inst = await findInstitution(deps.db, ref);
    const addresses = Array.isArray(body.addresses) ? body.addresses.map(String) : [];
    // A generated secret is shown once, in this answer; only its digest is stored.
    const secret = body.generate_secret === true ? randomBytes(24).toString('base64url') : typeof body.secret === 'string' ? body.secret : undefined;
    const certFingerprint = str(body.cert_fingerprint);
    try {
      const s = await addHl7Sender(deps.db, { institutionId: inst.id, msh3, msh4, allowedAddresses: addresses, secret, certFingerprint });
      ingest.senders.invalidate();
      return reply.code(201).send({ ...senderJson(s), ...(body.generate_secret === true ? { secret } : {}) });
    } catch (err) {
      if (err instanceof Hl7SenderError) throw new HttpError('bad-request', err.message);
      throw err;
    }
  });

  app.get('/admin/hl7-senders', { preHandler }, async () => (await listHl7Senders(deps.db)).map(senderJson));

  app.get('/admin/ingest', { preHandler }, async () => ({ mllp_port: ingest.mllpPort ?? null, mllp: ingest.mllpCounters.snapshot() }));
}
