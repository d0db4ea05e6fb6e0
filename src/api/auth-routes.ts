import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, JWT_BEARER_ASSERTION, TOKEN_ISSUER } from '../auth/index.ts';
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
 * The token endpoint (OAuth 2.0 client credentials grant, RFC 6749 §4.4, as SMART Backend Services use it: client
 * secret by HTTP Basic or form, or a signed `client_assertion`, RFC 7523), the public keys that verify the platform's
 * tokens (`/auth/jwks`, RFC 7517) and SMART discovery (`/fhir/.well-known/smart-configuration`).
 */
export function authRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post('/auth/token', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (body.grant_type !== 'client_credentials') {
      return oauthError(reply, 400, 'unsupported_grant_type', 'only grant_type=client_credentials is supported');
    }
    const scope = typeof body.scope === 'string' ? body.scope : undefined;
    const assertion = typeof body.client_assertion === 'string' ? body.client_assertion : undefined;
    if (body.client_assertion_type !== undefined && body.client_assertion_type !== JWT_BEARER_ASSERTION) {
      return oauthError(reply, 400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
    }
    const { id, secret } = clientCredentialsOf(request.headers.authorization, body);
    if (!assertion && (!id || !secret)) return oauthError(reply, 401, 'invalid_client', 'client_id and client_secret, or a client_assertion, are required');
    try {
      const token = assertion
        ? await deps.auth.clientAssertion(assertion, [tokenUrl(deps, request)], scope)
        : await deps.auth.clientCredentials(id!, secret!, scope);
      if (!token.scope) return oauthError(reply, 400, 'invalid_scope', 'none of the requested scopes can be granted');
      return reply.header('cache-control', 'no-store').send(token);
    } catch (err) {
      if (err instanceof AuthError) return oauthError(reply, 401, 'invalid_client', err.message);
      throw err;
    }
  });

  app.get('/auth/jwks', async () => deps.auth.jwks());

  // SMART discovery (https://hl7.org/fhir/smart-app-launch/conformance.html): anonymous, like /fhir/metadata.
  app.get('/fhir/.well-known/smart-configuration', async (request) => ({
    issuer: TOKEN_ISSUER,
    jwks_uri: tokenUrl(deps, request).replace(/token$/, 'jwks'),
    token_endpoint: tokenUrl(deps, request),
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384', 'RS256', 'ES256'],
    scopes_supported: ['system/*.read', 'system/*.write', 'system/*.rs', 'system/*.cud'],
    capabilities: ['client-confidential-symmetric', 'client-confidential-asymmetric'],
  }));
}

/** This token endpoint's absolute URL, as the client reached it (the `aud` of its client assertions). */
function tokenUrl(deps: AppDeps, request: FastifyRequest): string {
  return `${deps.config.publicUrl ?? `${request.protocol}://${request.host}`}/auth/token`;
}
