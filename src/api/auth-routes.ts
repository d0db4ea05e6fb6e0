import type { FastifyInstance, FastifyReply } from 'fastify';
import { AuthError } from '../auth/index.ts';
import type { AppDeps } from './deps.ts';

/** client_id and client_secret from HTTP Basic (RFC 6749 §2.3.1: each form-urlencoded) or from the body. */
export function clientCredentialsOf(authorization: string | undefined, body: Record<string, unknown>): { id?: string; secret?: string } {
  const m = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (m) {
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) {
      const unescape = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      try {
        return { id: unescape(decoded.slice(0, i)), secret: unescape(decoded.slice(i + 1)) };
      } catch {
        return {};
      }
    }
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { id: str(body.client_id), secret: str(body.client_secret) };
}

// RFC 6749 §5.2 error answers: OAuth clients parse these, not OperationOutcomes.
function oauthError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Basic realm="healthbrain"');
  return reply.code(status).header('cache-control', 'no-store').send({ error, error_description: description });
}

/**
 * The token endpoint (OAuth 2.0 client credentials grant, RFC 6749 §4.4, as SMART Backend Services use it) and the
 * public keys that verify the tokens (`/auth/jwks`, RFC 7517).
 */
export function authRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post('/auth/token', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (body.grant_type !== 'client_credentials') {
      return oauthError(reply, 400, 'unsupported_grant_type', 'only grant_type=client_credentials is supported');
    }
    const { id, secret } = clientCredentialsOf(request.headers.authorization, body);
    if (!id || !secret) return oauthError(reply, 401, 'invalid_client', 'client_id and client_secret are required');
    try {
      const token = await deps.auth.clientCredentials(id, secret, typeof body.scope === 'string' ? body.scope : undefined);
      if (!token.scope) return oauthError(reply, 400, 'invalid_scope', 'none of the requested scopes can be granted');
      return reply.header('cache-control', 'no-store').send(token);
    } catch (err) {
      if (err instanceof AuthError) return oauthError(reply, 401, 'invalid_client', err.message);
      throw err;
    }
  });

  app.get('/auth/jwks', async () => deps.auth.jwks());
}
