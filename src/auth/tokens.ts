import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Actor, Role } from '../fhir/context.ts';
import { AuthError } from './errors.ts';
import type { SigningKeys } from './keys.ts';

/** What the platform signs into an access token (RFC 9068 JWT access token profile, plus our own claims). */
export interface TokenClaims {
  kind: Actor['kind'];
  subject: string;
  scopes: string[];
  role?: Role;
  institutionId?: string;
  /** OAuth client that obtained the token (RFC 9068 `client_id`). */
  clientId?: string;
}

export interface TokenOptions {
  issuer: string;
  audience: string;
  now: Date;
  ttlSeconds: number;
}

/** The token endpoint's answer (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

interface PlatformPayload extends JWTPayload {
  scope?: string;
  hb_kind?: string;
  role?: string;
  inst?: string;
  client_id?: string;
}

/** Signs an access token with the platform key. */
export async function signToken(keys: SigningKeys, claims: TokenClaims, opts: TokenOptions): Promise<TokenResponse> {
  const iat = Math.floor(opts.now.getTime() / 1000);
  const payload: PlatformPayload = { scope: claims.scopes.join(' '), hb_kind: claims.kind };
  if (claims.role) payload.role = claims.role;
  if (claims.institutionId) payload.inst = claims.institutionId;
  if (claims.clientId) payload.client_id = claims.clientId;
  const jwt = await new SignJWT(payload)
    .setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: 'at+jwt' })
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setSubject(claims.subject)
    .setIssuedAt(iat)
    .setExpirationTime(iat + opts.ttlSeconds)
    .setJti(randomUUID())
    .sign(keys.privateKey);
  return { access_token: jwt, token_type: 'Bearer', expires_in: opts.ttlSeconds, scope: payload.scope ?? '' };
}

/**
 * Verifies a bearer token (signature, issuer, audience, expiry at `now`) and returns who it speaks for.
 * Any failure is an AuthError 401 whose message says why without echoing the token.
 */
export async function verifyToken(
  keys: SigningKeys,
  token: string,
  opts: { issuer: string; audience: string; now: Date },
): Promise<Actor> {
  let payload: PlatformPayload;
  try {
    ({ payload } = await jwtVerify<PlatformPayload>(token, keys.publicKey, {
      issuer: opts.issuer,
      audience: opts.audience,
      algorithms: [keys.alg],
      currentDate: opts.now,
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (err) {
    throw new AuthError(401, describe(err));
  }
  const kind = payload.hb_kind === 'user' ? 'user' : payload.hb_kind === 'system' ? 'system' : undefined;
  if (!kind) throw new AuthError(401, 'token is not a HealthBrain access token');
  const actor: Actor = { kind, subject: payload.sub!, scopes: (payload.scope ?? '').split(' ').filter(Boolean) };
  if (payload.role) actor.role = payload.role as Role;
  if (payload.inst) actor.institutionId = payload.inst;
  return actor;
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature is not valid';
  if (err instanceof errors.JWTClaimValidationFailed) return `token ${err.claim} claim is not valid (${err.reason})`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  return 'token is malformed';
}
