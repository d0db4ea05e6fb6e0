import type { FastifyReply, FastifyRequest } from 'fastify';
import { decide, type AccessQuestion } from '../access/index.ts';
import { AuthError } from '../auth/index.ts';
import type { Actor, Role } from '../fhir/context.ts';
import type { AppDeps } from './deps.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireActor` / the FHIR route once the bearer token is verified. */
    actor?: Actor;
  }
}

/** The token of an `Authorization: Bearer …` header (RFC 6750 §2.1). */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/** Verifies the request's bearer token; AuthError 401 when missing or invalid. */
export async function authenticate(deps: AppDeps, request: FastifyRequest): Promise<Actor> {
  const token = bearerToken(request.headers.authorization);
  if (!token) throw new AuthError(401, 'a bearer token is required (POST /auth/token)');
  const actor = await deps.auth.verify(token);
  request.actor = actor;
  return actor;
}

type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** preHandler for routes any authenticated caller may use. */
export function requireActor(deps: AppDeps): PreHandler {
  return async (request) => {
    await authenticate(deps, request);
  };
}

/** preHandler for routes restricted to some roles; 401 without a token, 403 with the wrong role. */
export function requireRoles(deps: AppDeps, roles: readonly Role[]): PreHandler {
  return async (request) => {
    const actor = await authenticate(deps, request);
    if (!actor.role || !roles.includes(actor.role)) throw new AuthError(403, `this needs one of the roles ${roles.join(', ')}`);
  };
}

/** preHandler asking the access decision (src/access `decide`) a question that needs no stored facts; 403 when denied. */
export function requireAccess(deps: AppDeps, question: AccessQuestion): PreHandler {
  return async (request) => {
    const actor = await authenticate(deps, request);
    const d = await decide(deps.db, actor, question, { purpose: actor.purposeOfUse, now: deps.clock.now() });
    if (!d.allowed) throw new AuthError(403, d.text);
  };
}

/** preHandler for the operator API (`/admin/…`): the platform admin or an operator (the access decision's `admin`). */
export function requireOperator(deps: AppDeps): PreHandler {
  return requireAccess(deps, { kind: 'admin', area: 'operations' });
}
