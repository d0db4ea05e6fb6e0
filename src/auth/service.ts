import type { JSONWebKeySet } from 'jose';
import type { Clock } from '../config/index.ts';
import type { Actor } from '../fhir/context.ts';
import type { Db } from '../store/index.ts';
import type { AdminCredential } from './admin-credential.ts';
import { authenticateAssertion } from './client-assertion.ts';
import { AuthError } from './errors.ts';
import { authenticateClient, findInstitution, institutionClient } from './institutions.ts';
import type { SigningKeys } from './keys.ts';
import { isPersonRole, narrowScopes, ROLE_SCOPES, PERSON_ROLES } from './scopes.ts';
import { sameSecret } from './secrets.ts';
import { signToken, verifyToken, type TokenResponse } from './tokens.ts';

/** Issuer and audience of every platform token; fixed strings so that all nodes of a deployment agree. */
export const TOKEN_ISSUER = 'urn:healthbrain';
export const TOKEN_AUDIENCE = 'urn:healthbrain:api';

export interface AuthDeps {
  db: Db;
  keys: SigningKeys;
  admin: AdminCredential;
  clock: Clock;
  ttlSeconds: number;
}

export interface PersonTokenRequest {
  role: string;
  /** Institution id, code or name. */
  institution?: string;
  user?: string;
  /** Narrower scopes than the role's, space-separated. */
  scope?: string;
}

/** Token issuing and checking for the platform (OAuth 2.0 client credentials, RFC 6749 §4.4; JWT access tokens). */
export interface AuthService {
  /** `grant_type=client_credentials`: the admin client or an institution's client. 401 on a wrong id or secret. */
  clientCredentials(clientId: string, secret: string, scope?: string): Promise<TokenResponse>;
  /**
   * `grant_type=client_credentials` with a signed `client_assertion` (SMART Backend Services). `tokenUrls` are the
   * URLs this token endpoint answers at (the assertion's `aud` must be one of them).
   */
  clientAssertion(assertion: string, tokenUrls: string[], scope?: string): Promise<TokenResponse>;
  /** The token an institution's client-credentials grant would return, issued on the admin's word. */
  institutionToken(ref: string, scope?: string): Promise<TokenResponse>;
  /** A person's token with a role, optional institution and user id. */
  personToken(req: PersonTokenRequest): Promise<TokenResponse>;
  /** Verifies a bearer token; AuthError 401 when expired, forged, or for another issuer/audience. */
  verify(token: string): Promise<Actor>;
  /** Public keys, for `/auth/jwks`. */
  jwks(): JSONWebKeySet;
}

export function createAuthService(deps: AuthDeps): AuthService {
  const sign = (claims: Parameters<typeof signToken>[1]) =>
    signToken(deps.keys, claims, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, now: deps.clock.now(), ttlSeconds: deps.ttlSeconds });

  return {
    async clientCredentials(clientId, secret, scope) {
      if (sameSecret(clientId, deps.admin.clientId)) {
        if (!sameSecret(secret, deps.admin.clientSecret)) throw new AuthError(401, 'invalid client credentials');
        return sign({ kind: 'system', subject: clientId, clientId, role: 'admin', scopes: narrowScopes(ROLE_SCOPES.admin, scope) });
      }
      const client = await authenticateClient(deps.db, clientId, secret);
      if (!client) throw new AuthError(401, 'invalid client credentials');
      const scopes = narrowScopes(client.scopes, scope);
      return sign({ kind: 'system', subject: clientId, clientId, institutionId: client.institutionId, scopes });
    },

    async clientAssertion(assertion, tokenUrls, scope) {
      const client = await authenticateAssertion(deps.db, assertion, { tokenUrls, now: deps.clock.now() });
      const scopes = narrowScopes(client.scopes, scope);
      return sign({ kind: 'system', subject: client.clientId, clientId: client.clientId, institutionId: client.institutionId, scopes });
    },

    async institutionToken(ref, scope) {
      const inst = await findInstitution(deps.db, ref);
      const client = await institutionClient(deps.db, inst.id);
      if (!client) throw new AuthError(403, `institution ${inst.code} has no active client`);
      const scopes = narrowScopes(client.scopes, scope);
      return sign({ kind: 'system', subject: client.clientId, clientId: client.clientId, institutionId: inst.id, scopes });
    },

    async personToken(req) {
      if (!isPersonRole(req.role)) throw new AuthError(403, `role must be one of ${PERSON_ROLES.join(', ')}`);
      const inst = req.institution ? await findInstitution(deps.db, req.institution) : undefined;
      const subject = req.user?.trim() || `${req.role}@${inst?.code ?? 'platform'}`;
      const scopes = narrowScopes(ROLE_SCOPES[req.role], req.scope);
      return sign({ kind: 'user', subject, role: req.role, institutionId: inst?.id, scopes });
    },

    verify(token) {
      return verifyToken(deps.keys, token, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, now: deps.clock.now() });
    },

    jwks() {
      return { keys: [deps.keys.publicJwk] };
    },
  };
}
