import type { FastifyInstance } from 'fastify';
import {
  batchDedupe,
  decideReview,
  EmpiError,
  evaluate,
  getPerson,
  getReview,
  listReviews,
  mergePersons,
  personHistory,
  trainModel,
  truthFromCsv,
  unmergePersons,
} from '../empi/index.ts';
import { requireOperator } from './authenticate.ts';
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
 */
export function empiRoutes(app: FastifyInstance, deps: AppDeps): void {
  const preHandler = requireOperator(deps);
  const actorOf = (r: { actor?: { subject: string } }) => r.actor?.subject ?? 'operator';

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

  app.get<{ Querystring: Record<string, string | undefined> }>('/admin/empi/reviews', { preHandler }, async (request) => {
    const q = request.query;
    const status = q.status as 'pending' | 'linked' | 'not-linked' | undefined;
    if (status && !['pending', 'linked', 'not-linked'].includes(status)) throw new HttpError('bad-request', `unknown status ${status}`);
    return listReviews(deps.db, { status, limit: q.limit ? Number(q.limit) : undefined, offset: q.offset ? Number(q.offset) : undefined });
  });

  app.get<{ Params: { id: string } }>('/admin/empi/reviews/:id', { preHandler }, async (request) => {
    const r = await getReview(deps.db, Number(request.params.id));
    if (!r) throw new HttpError('not-found', `no review item ${request.params.id}`);
    return r;
  });

  app.post<{ Params: { id: string } }>('/admin/empi/reviews/:id', { preHandler }, async (request) => {
    const decision = str(((request.body ?? {}) as Record<string, unknown>).decision);
    if (decision !== 'link' && decision !== 'not-link') throw new HttpError('bad-request', "decision must be 'link' or 'not-link'");
    return guard(() => deps.db.transaction((tx) => decideReview(tx, Number(request.params.id), decision, { actor: actorOf(request) })));
  });

  app.get<{ Params: { id: string } }>('/admin/empi/persons/:id', { preHandler }, async (request) => {
    const person = await getPerson(deps.db, request.params.id);
    if (!person) throw new HttpError('not-found', `no person ${request.params.id}`);
    return { ...person, history: await personHistory(deps.db, person.personId) };
  });

  app.post<{ Params: { id: string } }>('/admin/empi/persons/:id/merge', { preHandler }, async (request) => {
    const from = str(((request.body ?? {}) as Record<string, unknown>).from);
    if (!from) throw new HttpError('bad-request', 'from (the person to merge into this one) is required');
    const mergeEventId = await guard(() => deps.db.transaction((tx) => mergePersons(tx, request.params.id, from, { actor: actorOf(request) })));
    return { mergeEventId: mergeEventId ?? null };
  });

  app.post<{ Params: { event: string } }>('/admin/empi/merges/:event/undo', { preHandler }, async (request) => ({
    unmergeEventId: await guard(() => deps.db.transaction((tx) => unmergePersons(tx, Number(request.params.event), { actor: actorOf(request) }))),
  }));
}
