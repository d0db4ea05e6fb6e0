import type { FastifyInstance } from 'fastify';
import { findInstitution } from '../auth/index.ts';
import { grantConsent, listConsents, residentPersonId, revokeConsent } from '../access/index.ts';
import { getRecordSummary, recordDepsFor, regionOverview, searchPatients, type Me, type PatientSearchBy } from '../record/index.ts';
import { requireActor, requireRoles } from './authenticate.ts';
import type { AppDeps } from './deps.ts';
import { HttpError } from './errors.ts';
import type { Actor } from '../fhir/context.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const BY = new Set<PatientSearchBy>(['any', 'residentId', 'name', 'healthCard', 'mrn']);

/**
 * The record viewer's API (docs/RECORD-API.md, issue 6): thin — parse, authenticate, call src/record, serialise.
 *
 *   GET  /api/me                                   → Me
 *   GET  /api/patients?q=&by=&institution=         → PatientSearchResult (masked identifiers)
 *   GET  /api/record/:personId/summary             → RecordSummary (403 no-care-relationship …)
 *   POST /api/record/:personId/summary {purposeOfUse: "ETREAT", reason} → RecordSummary (break-the-glass)
 *   GET  /api/consents                             → the signed-in resident's Consents
 *   POST /api/consents {institution | user, end?}  → 201 Consent (resident authorization)
 *   POST /api/consents/:id/revoke                  → the revoked Consent
 *   GET  /admin/overview                           → RegionOverview (operator, manager, admin)
 */
export function recordRoutes(app: FastifyInstance, deps: AppDeps): void {
  const record = recordDepsFor(deps.db, () => deps.clock.now());
  const preHandler = requireActor(deps);

  app.get('/api/me', { preHandler }, async (request): Promise<Me> => {
    const actor = request.actor!;
    const inst = actor.institutionId ? await findInstitution(deps.db, actor.institutionId).catch(() => undefined) : undefined;
    const personId = await residentPersonId(deps.db, actor);
    return {
      subject: actor.subject, name: actor.subject, role: actor.role ?? 'admin',
      ...(inst ? { institution: { id: inst.id, name: inst.name } } : {}), ...(personId ? { personId } : {}),
    };
  });

  app.get<{ Querystring: Record<string, string> }>('/api/patients', { preHandler }, async (request) => {
    const by = (str(request.query.by) ?? 'any') as PatientSearchBy;
    if (!BY.has(by)) throw new HttpError('bad-request', `by must be one of ${[...BY].join(', ')}`);
    return searchPatients(record, request.actor!, { q: str(request.query.q) ?? '', by, institution: str(request.query.institution), requestId: request.id });
  });

  app.get<{ Params: { personId: string } }>('/api/record/:personId/summary', { preHandler }, async (request) =>
    getRecordSummary(record, request.actor!, request.params.personId, { requestId: request.id }),
  );

  app.post<{ Params: { personId: string } }>('/api/record/:personId/summary', { preHandler }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    return getRecordSummary(record, request.actor!, request.params.personId, { purpose: str(body.purposeOfUse), reason: str(body.reason), requestId: request.id });
  });

  const resident = requireRoles(deps, ['resident']);
  const self = async (request: { actor?: Actor }) => {
    const personId = await residentPersonId(deps.db, request.actor!);
    if (!personId) throw new HttpError('forbidden', 'this resident sign-in is not linked to a person');
    return personId;
  };

  app.get('/api/consents', { preHandler: resident }, async (request) => listConsents(deps.fhirServices.repo, await self(request)));

  app.post('/api/consents', { preHandler: resident }, async (request, reply) => {
    const personId = await self(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const ref = str(body.institution);
    const inst = ref ? await findInstitution(deps.db, ref) : undefined;
    const user = str(body.user);
    if (!inst && !user) throw new HttpError('bad-request', 'name the institution or the clinician (user) to authorize');
    const consent = await grantConsent(deps.fhirServices.repo, { personId, institutionId: inst?.id, institutionName: inst?.name, user, end: str(body.end), now: deps.clock.now() });
    request.log.info({ consent: consent.id }, 'resident authorization granted');
    return reply.code(201).send(consent);
  });

  app.post<{ Params: { id: string } }>('/api/consents/:id/revoke', { preHandler: resident }, async (request) =>
    revokeConsent(deps.fhirServices.repo, await self(request), request.params.id, deps.clock.now()),
  );

  app.get('/admin/overview', { preHandler: requireRoles(deps, ['operator', 'manager', 'admin']) }, async () => regionOverview(deps.db, deps.clock.now()));
}
