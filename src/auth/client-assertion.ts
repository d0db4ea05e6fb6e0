import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JSONWebKeySet } from 'jose';
import type { Queryable } from '../store/index.ts';
import { AuthError } from './errors.ts';
import type { InstitutionClient } from './institutions.ts';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

// SMART Backend Services: servers SHALL support RS384 and ES384; ES256/RS256 are common too.
const ALGORITHMS = ['RS384', 'ES384', 'RS256', 'ES256'];
// An assertion may live at most five minutes (SMART Backend Services, "exp").
const MAX_LIFETIME_S = 300;

interface ClientRow {
  client_id: string;
  institution_id: string;
  scopes: string;
  active: boolean;
  jwks: JSONWebKeySet | null;
}

/**
 * Authenticates a client by its signed `client_assertion` (RFC 7523 §2.2, as SMART Backend Services profile it):
 * iss = sub = client_id, aud = this token endpoint, exp no more than five minutes ahead, a jti never seen before,
 * signed by a key of the JWKS registered for the client. Any failure is AuthError 401.
 */
export async function authenticateAssertion(
  db: Queryable,
  assertion: string,
  opts: { tokenUrls: string[]; now: Date },
): Promise<InstitutionClient> {
  let clientId: string;
  try {
    clientId = String(decodeJwt(assertion).iss ?? '');
  } catch {
    throw new AuthError(401, 'client_assertion is not a JWT');
  }
  const { rows } = await db.query<ClientRow>(
    'SELECT client_id, institution_id, scopes, active, jwks FROM institution_client WHERE client_id = $1',
    [clientId],
  );
  const row = rows[0];
  if (!row || !row.active) throw new AuthError(401, 'unknown client');
  if (!row.jwks?.keys?.length) throw new AuthError(401, 'this client has no registered JWKS: use its client secret');
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(row.jwks), {
      issuer: clientId,
      subject: clientId,
      audience: opts.tokenUrls,
      algorithms: ALGORITHMS,
      currentDate: opts.now,
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new AuthError(401, 'client_assertion expired');
    if (err instanceof errors.JWTClaimValidationFailed) throw new AuthError(401, `client_assertion ${err.claim} claim is not valid`);
    throw new AuthError(401, 'client_assertion signature is not valid for the registered keys');
  }
  const nowS = Math.floor(opts.now.getTime() / 1000);
  if (payload.exp! > nowS + MAX_LIFETIME_S) throw new AuthError(401, 'client_assertion exp is more than five minutes ahead');
  await db.query('DELETE FROM auth_assertion_jti WHERE expires_at < $1', [opts.now]);
  const fresh = await db.query(
    `INSERT INTO auth_assertion_jti (client_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3))
     ON CONFLICT DO NOTHING RETURNING jti`,
    [clientId, String(payload.jti), payload.exp],
  );
  if (!fresh.rows.length) throw new AuthError(401, 'client_assertion jti was already used');
  return { clientId, institutionId: row.institution_id, scopes: row.scopes.split(' ').filter(Boolean), active: true };
}
