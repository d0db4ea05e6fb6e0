import type { FastifyInstance } from 'fastify';
import type { JSONWebKeySet } from 'jose';
import { createInstitution, findInstitution, listInstitutions, rotateClientSecret, type Institution } from '../auth/index.ts';
import { requireAccess, requireOperator } from './authenticate.ts';
import type { AppDeps } from './deps.ts';
import { HttpError } from './errors.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

function institutionJson(i: Institution) {
  return { id: i.id, code: i.code, name: i.name, type: i.type, created_at: i.createdAt.toISOString() };
}

/**
 * The operator API for institutions (platform admin or operator role) and tokens (platform admin only, i.e. whoever
 * holds `<data>/admin.json`: the CLI's `healthbrain token`). Other modules add their operator
 * routes the same way: a RoutePlugin with `preHandler: requireOperator(deps)` (see routes.ts).
 *
 *   POST /admin/institutions                  {name, code?, type?, jwks?} → 201 {id, code, name, type, client_id, client_secret}
 *   GET  /admin/institutions                  → [{id, code, name, type, created_at}]
 *   GET  /admin/institutions/:ref             id, code or name → {id, code, …}
 *   POST /admin/institutions/:ref/token       {scope?} → the token its client-credentials grant would return
 *   POST /admin/tokens                        {role, institution?, user?, scope?} → a person's token
 *   POST /admin/institutions/:ref/secret      → {client_id, client_secret}: a new secret (admin only)
 */
export function adminRoutes(app: FastifyInstance, deps: AppDeps): void {
  const preHandler = requireOperator(deps);
  // Minting tokens is the platform admin's alone: an operator who could mint an operator token could keep access forever.
  const adminOnly = requireAccess(deps, { kind: 'admin', area: 'credentials' });

  app.post('/admin/institutions', { preHandler }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const name = str(body.name);
    if (!name) throw new HttpError('bad-request', 'name is required');
    const jwks = body.jwks === undefined || body.jwks === null ? undefined : (body.jwks as JSONWebKeySet);
    const { institution, clientId, clientSecret } = await createInstitution(deps.db, { name, code: str(body.code), type: str(body.type), jwks });
    request.log.info({ institution: institution.id, code: institution.code, by: request.actor?.subject }, 'institution registered');
    return reply.code(201).send({ ...institutionJson(institution), client_id: clientId, client_secret: clientSecret });
  });

  app.get('/admin/institutions', { preHandler }, async () => (await listInstitutions(deps.db)).map(institutionJson));

  app.get<{ Params: { ref: string } }>('/admin/institutions/:ref', { preHandler }, async (request) =>
    institutionJson(await findInstitution(deps.db, request.params.ref)),
  );

  app.post<{ Params: { ref: string } }>('/admin/institutions/:ref/token', { preHandler: adminOnly }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    return deps.auth.institutionToken(request.params.ref, str(body.scope));
  });

  app.post<{ Params: { ref: string } }>('/admin/institutions/:ref/secret', { preHandler: adminOnly }, async (request) => {
    const inst = await findInstitution(deps.db, request.params.ref);
    const { clientId, clientSecret } = await rotateClientSecret(deps.db, inst.id);
    request.log.warn({ institution: inst.id, client: clientId }, 'client secret rotated');
    return { ...institutionJson(inst), client_id: clientId, client_secret: clientSecret };
  });

  app.post('/admin/tokens', { preHandler: adminOnly }, async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const role = str(body.role);
    if (!role) throw new HttpError('bad-request', 'role is required');
    return deps.auth.personToken({ role, institution: str(body.institution), user: str(body.user), scope: str(body.scope) });
  });
}
