import { randomBytes, randomUUID } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import type { Queryable } from '../store/index.ts';
import { hashSecret, newSecret, verifySecret } from './secrets.ts';

/** Scopes every institution client is registered with (SMART App Launch 2.x "system" scopes). */
export const INSTITUTION_SCOPES = ['system/*.read', 'system/*.write'];

export interface Institution {
  id: string;
  code: string;
  name: string;
  type: string;
  createdAt: Date;
}

export interface InstitutionClient {
  clientId: string;
  institutionId: string;
  scopes: string[];
  active: boolean;
}

export interface NewInstitution {
  name: string;
  code?: string;
  type?: string;
  /** Public keys for SMART Backend Services client assertions (optional; the secret works either way). */
  jwks?: JSONWebKeySet;
}

/** Thrown for rule violations the caller can fix (duplicate code, ambiguous name); mapped to 4xx outcomes. */
export class InstitutionError extends Error {
  readonly code: 'duplicate' | 'not-found' | 'invalid';
  constructor(code: 'duplicate' | 'not-found' | 'invalid', message: string) {
    super(message);
    this.code = code;
  }
}

interface InstitutionRow {
  id: string;
  code: string;
  name: string;
  type: string;
  created_at: Date;
}

const toInstitution = (r: InstitutionRow): Institution => ({
  id: r.id,
  code: r.code,
  name: r.name,
  type: r.type,
  createdAt: r.created_at,
});

/** A code from the name when it is already code-like (CONTRACT-HOSP), else a short random one (names are often Chinese). */
function defaultCode(name: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name) ? name.toUpperCase() : 'INST-' + randomBytes(4).toString('hex').toUpperCase();
}

/** Registers an institution and its first client; returns the client secret, which is shown once and stored hashed. */
export async function createInstitution(
  db: Queryable,
  input: NewInstitution,
): Promise<{ institution: Institution; clientId: string; clientSecret: string }> {
  const name = input.name?.trim();
  if (!name) throw new InstitutionError('invalid', 'an institution needs a name');
  const code = (input.code?.trim() || defaultCode(name)).toUpperCase();
  if (!/^[A-Z0-9][A-Z0-9_.-]{0,63}$/.test(code)) throw new InstitutionError('invalid', `institution code '${code}' must be letters, digits, . _ -`);
  if (input.jwks !== undefined && !(Array.isArray(input.jwks?.keys) && input.jwks.keys.every((k) => k && typeof k.kty === 'string' && !('d' in k)))) {
    throw new InstitutionError('invalid', 'jwks must be a JSON Web Key Set of public keys ({"keys": [...]})');
  }
  const taken = await db.query('SELECT 1 FROM institution WHERE code = $1', [code]);
  if (taken.rows.length) throw new InstitutionError('duplicate', `an institution with code ${code} already exists`);
  const id = randomUUID();
  const clientId = 'inst-' + randomBytes(8).toString('hex');
  const clientSecret = newSecret();
  const { rows } = await db.query<InstitutionRow>(
    `INSERT INTO institution (id, code, name, type) VALUES ($1, $2, $3, $4) RETURNING id, code, name, type, created_at`,
    [id, code, name, input.type?.trim() || 'hospital'],
  );
  await db.query(`INSERT INTO institution_client (client_id, institution_id, secret_hash, scopes, jwks) VALUES ($1, $2, $3, $4, $5)`, [
    clientId,
    id,
    await hashSecret(clientSecret),
    INSTITUTION_SCOPES.join(' '),
    input.jwks ? JSON.stringify(input.jwks) : null,
  ]);
  return { institution: toInstitution(rows[0]), clientId, clientSecret };
}

export async function listInstitutions(db: Queryable): Promise<Institution[]> {
  const { rows } = await db.query<InstitutionRow>('SELECT id, code, name, type, created_at FROM institution ORDER BY created_at, code');
  return rows.map(toInstitution);
}

/** Finds an institution by id, code or name (in that order of precedence); a name shared by two is an error. */
export async function findInstitution(db: Queryable, ref: string): Promise<Institution> {
  const { rows } = await db.query<InstitutionRow & { rank: number }>(
    `SELECT id, code, name, type, created_at,
            CASE WHEN id = $1 THEN 0 WHEN code = upper($1) THEN 1 ELSE 2 END AS rank
       FROM institution WHERE id = $1 OR code = upper($1) OR name = $1 ORDER BY rank`,
    [ref],
  );
  if (!rows.length) throw new InstitutionError('not-found', `no institution with id, code or name '${ref}'`);
  if (rows[0].rank === 2 && rows.length > 1) {
    throw new InstitutionError('invalid', `${rows.length} institutions are named '${ref}': use the code or id`);
  }
  return toInstitution(rows[0]);
}

/** Checks a client's secret (RFC 6749 §2.3.1); undefined for unknown, inactive or wrong. */
export async function authenticateClient(db: Queryable, clientId: string, secret: string): Promise<InstitutionClient | undefined> {
  const { rows } = await db.query<{ client_id: string; institution_id: string; secret_hash: string; scopes: string; active: boolean }>(
    'SELECT client_id, institution_id, secret_hash, scopes, active FROM institution_client WHERE client_id = $1',
    [clientId],
  );
  const row = rows[0];
  if (!row || !row.active || !(await verifySecret(secret, row.secret_hash))) return undefined;
  return { clientId: row.client_id, institutionId: row.institution_id, scopes: row.scopes.split(' ').filter(Boolean), active: true };
}

/** The institution's active client, for tokens the admin issues on its behalf (`healthbrain token --institution`). */
export async function institutionClient(db: Queryable, institutionId: string): Promise<InstitutionClient | undefined> {
  const { rows } = await db.query<{ client_id: string; scopes: string }>(
    'SELECT client_id, scopes FROM institution_client WHERE institution_id = $1 AND active ORDER BY created_at LIMIT 1',
    [institutionId],
  );
  const row = rows[0];
  return row && { clientId: row.client_id, institutionId, scopes: row.scopes.split(' ').filter(Boolean), active: true };
}

/**
 * Gives the institution's active client a new secret (the old one stops working at once; tokens already issued
 * live out their lifetime). For a lost or leaked secret. Returns the client id and the new secret, shown once.
 */
export async function rotateClientSecret(db: Queryable, institutionId: string): Promise<{ clientId: string; clientSecret: string }> {
  const client = await institutionClient(db, institutionId);
  if (!client) throw new InstitutionError('not-found', `institution ${institutionId} has no active client`);
  const clientSecret = newSecret();
  await db.query('UPDATE institution_client SET secret_hash = $2 WHERE client_id = $1', [client.clientId, await hashSecret(clientSecret)]);
  return { clientId: client.clientId, clientSecret };
}
