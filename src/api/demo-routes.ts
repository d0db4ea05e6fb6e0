import type { FastifyInstance } from 'fastify';
import { findInstitution, isPersonRole } from '../auth/index.ts';
import type { Me } from '../record/summary-types.ts';
import type { AppDeps, RoutePlugin } from './deps.ts';
import { HttpError } from './errors.ts';

/** A demo sign-in offered on the console's sign-in page. */
export interface DemoUser {
  role: Me['role'];
  /** Display name, e.g. 周志明. */
  name: string;
  /** Login id, used as the token subject. */
  user: string;
  /** Institution id, code or name (clinicians). */
  institution?: string;
  /** For a resident: their own person id. */
  personId?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/**
 * Demo sign-in (docs/RECORD-API.md): NOT part of the default route list. Only the demo command adds it —
 * `buildApp(deps, [...routePlugins, createDemoRoutes(users)])` — so a normal server has no password-less login.
 *
 *   GET  /auth/demo-users                      → [{role, name, institution?: {id, name}}]
 *   POST /auth/demo-login {role, institution?} → {access_token, token_type, expires_in, scope, user: Me}
 */
export function createDemoRoutes(users: readonly DemoUser[]): RoutePlugin {
  return (app: FastifyInstance, deps: AppDeps) => {
    const institutionOf = async (ref: string | undefined) => {
      if (!ref) return undefined;
      const inst = await findInstitution(deps.db, ref);
      return { id: inst.id, name: inst.name };
    };

    app.get('/auth/demo-users', async () =>
      Promise.all(users.map(async (u) => ({ role: u.role, name: u.name, institution: await institutionOf(u.institution) }))),
    );

    app.post('/auth/demo-login', async (request) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const role = str(body.role);
      if (!role || !isPersonRole(role)) throw new HttpError('bad-request', 'role must be a person role');
      const wanted = str(body.institution);
      const candidates = users.filter((u) => u.role === role);
      let demo = candidates[0];
      if (wanted) {
        const inst = await institutionOf(wanted);
        demo = (await Promise.all(candidates.map(async (u) => ((await institutionOf(u.institution))?.id === inst?.id ? u : undefined)))).find(Boolean) ?? demo;
      }
      if (!demo) throw new HttpError('bad-request', `no demo user with role ${role}`);
      const token = await deps.auth.personToken({ role, institution: demo.institution, user: demo.user });
      const user: Me = { subject: demo.user, name: demo.name, role: demo.role, institution: await institutionOf(demo.institution), personId: demo.personId };
      request.log.info({ role, user: demo.user }, 'demo sign-in');
      return { ...token, user };
    });
  };
}
