import type { FastifyInstance } from 'fastify';
import type { FastifyRequest } from 'fastify';
import {
  batchDedupe,
  decideReviewItem,
  EmpiError,
  evaluate,
  mergeInto,
  personDetail,
  reviewDetail,
  reviewQueue,
  trainModel,
  truthFromCsv,
  undoMerge,
  type IdentityCaller,
} from '../empi/index.ts';
import { requireActor, requireOperator } from './authenticate.ts';
import type { AppDeps } from './deps.ts';
import { HttpError } from './errors.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** Domain errors of the EMPI to the HTTP catalogue. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof EmpiError) throw new HttpError(err.code === 'invalid' ? 'bad-request' : err.code, err.message);
    throw err;
  }
}

/**
 * The EMPI operator API (operator or admin). Thin: parse, call src/empi, serialise.
 *
 *   POST /admin/empi/eval                 {mrnsCsv} (truth/mrns.csv text) or {truthDir} (server-local) → Evaluation
 *   POST /admin/empi/dedupe               {train?: boolean} → BatchResult (batch mode over records without a person)
 *   POST /admin/empi/train                → TrainResult (re-estimates m/u from the data and review decisions)
 *   GET  /admin/empi/reviews              ?status=pending|linked|not-linked&limit&offset → {total, items}
 *   GET  /admin/empi/reviews/:id          → {item, a, b} (both records, their persons, the evidence)
 *   POST /admin/empi/reviews/:id          {decision: 'link'|'not-link'} → {status, mergeEventId?}
 *   GET  /admin/empi/persons/:id          → person, golden record, patient keys, history
 *   POST /admin/empi/persons/:id/merge    {from: personId} → {mergeEventId}
 *   POST /admin/empi/merges/:event/undo   → {unmergeEventId}
 *
 * The review, person, merge and undo routes only authenticate here: the EMPI decides who may (src/empi/stewardship.ts,
 * operators and the admin) and audits every call, a refusal included (403 `role-not-permitted`).
 */
export function empiRoutes(app: FastifyInstance, deps: AppDeps): void {
  const preHandler = requireOperator(deps);
  const identified = requireActor(deps);
  const actorOf = (r: { actor?: { subject: string } }) => r.actor?.subject ?? 'operator';
  const callerOf = (r: FastifyRequest): IdentityCaller => ({ actor: r.actor!, now: deps.clock.now(), requestId: r.id });
  const id = (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 1) throw new HttpError('bad-request', `not an id: ${v}`);
    return n;
  };

  app.post('/admin/empi/eval', { preHandler }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const csv = str(body.mrnsCsv);
    const dir = str(body.truthDir);
    if (!csv && !dir) throw new HttpError('bad-request', 'mrnsCsv (the text of truth/mrns.csv) or truthDir is required');
    return guard(() => evaluate(deps.db, csv ? truthFromCsv(csv) : dir!));
  });

  app.post('/admin/empi/dedupe', { preHandler }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    return guard(() => batchDedupe(deps.db, { train: body.train !== false, actor: actorOf(request) }));
  });

  app.post('/admin/empi/train', { preHandler }, async () => guard(() => trainModel(deps.db)));

  app.get<{ Querystring: Record<string, string | undefined> }>('/admin/empi/reviews', { preHandler: identified }, async (request) => {
    const q = request.query;
    const status = q.status as 'pending' | 'linked' | 'not-linked' | undefined;
    if (status && !['pending', 'linked', 'not-linked'].includes(status)) throw new HttpError('bad-request', `unknown status ${status}`);
    return guard(() => reviewQueue(deps.db, callerOf(request), { status, limit: q.limit ? Number(q.limit) : undefined, offset: q.offset ? Number(q.offset) : undefined }));
  });

  app.get<{ Params: { id: string } }>('/admin/empi/reviews/:id', { preHandler: identified }, async (request) =>
    guard(() => reviewDetail(deps.db, callerOf(request), id(request.params.id))));

  app.post<{ Params: { id: string } }>('/admin/empi/reviews/:id', { preHandler: identified }, async (request) => {
    const decision = str(((request.body ?? {}) as Record<string, unknown>).decision);
    if (decision !== 'link' && decision !== 'not-link') throw new HttpError('bad-request', "decision must be 'link' or 'not-link'");
    return guard(() => decideReviewItem(deps.db, callerOf(request), id(request.params.id), decision));
  });

  app.get<{ Params: { id: string } }>('/admin/empi/persons/:id', { preHandler: identified }, async (request) =>
    guard(() => personDetail(deps.db, callerOf(request), request.params.id)));

  app.post<{ Params: { id: string } }>('/admin/empi/persons/:id/merge', { preHandler: identified }, async (request) => {
    const from = str(((request.body ?? {}) as Record<string, unknown>).from);
    if (!from) throw new HttpError('bad-request', 'from (the person to merge into this one) is required');
    const mergeEventId = await guard(() => mergeInto(deps.db, callerOf(request), request.params.id, from));
    return { mergeEventId: mergeEventId ?? null };
  });

  app.post<{ Params: { event: string } }>('/admin/empi/merges/:event/undo', { preHandler: identified }, async (request) => ({
    unmergeEventId: await guard(() => undoMerge(deps.db, callerOf(request), id(request.params.event))),
  }));
}
