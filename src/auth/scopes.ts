import type { Role } from '../fhir/context.ts';

/** Roles a person's token can carry; `admin` is reserved for the platform-admin client. */
export const PERSON_ROLES = ['operator', 'clinician', 'resident', 'manager', 'researcher', 'auditor', 'exporter'] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

export function isPersonRole(role: string): role is PersonRole {
  return (PERSON_ROLES as readonly string[]).includes(role);
}

/**
 * Scopes by role (SMART App Launch `user/` scopes). They are the ceiling; relationship, purpose and consent rules
 * (later issues) narrow further per resource in the access policies (see policy.ts). Residents get read access here
 * only because the rule "own record only" is a relationship rule that the consent issue adds as a policy.
 */
export const ROLE_SCOPES: Record<PersonRole | 'admin', string[]> = {
  admin: ['system/*.read', 'system/*.write'],
  operator: ['user/*.read', 'user/*.write'],
  clinician: ['user/*.read', 'user/*.write'],
  // Residents write their own authorizations (Consent, 一使用一授权); src/record/fhir-access.ts limits them to themselves.
  resident: ['user/*.read', 'user/Consent.write'],
  manager: ['user/*.read'],
  researcher: ['user/*.read'],
  auditor: ['user/AuditEvent.read', 'user/Provenance.read'],
  // Region-wide bulk reads (issue 10): read only; every read is audited with basis `export`.
  exporter: ['user/*.read'],
};

/** Roles allowed on the operator API (`/admin/…`). */
export const OPERATOR_ROLES: readonly Role[] = ['admin', 'operator'];

export type AccessMode = 'read' | 'write';

interface ParsedScope {
  context: string;
  type: string;
  /** SMART v2 permission letters: c r u d s. */
  perms: Set<string>;
}

/** Parses `system/Patient.read`, `user/*.write`, `patient/Observation.rs` (SMART v1 and v2 forms). */
export function parseScope(scope: string): ParsedScope | undefined {
  const m = /^(system|user|patient)\/([A-Za-z]+|\*)\.(read|write|\*|[cruds]+)$/.exec(scope);
  if (!m) return undefined;
  const p = m[3];
  const letters = p === 'read' ? 'rs' : p === 'write' ? 'cud' : p === '*' ? 'cruds' : p;
  return { context: m[1], type: m[2], perms: new Set(letters) };
}

const MODE_LETTERS: Record<AccessMode, string[]> = { read: ['r', 's'], write: ['c', 'u', 'd'] };

/** Whether any of `scopes` grants `mode` on `resourceType` ('*' = every type, as for base-level history). */
export function scopeAllows(scopes: readonly string[], resourceType: string, mode: AccessMode): boolean {
  return scopes.some((s) => {
    const p = parseScope(s);
    if (!p || (p.type !== '*' && p.type !== resourceType)) return false;
    return MODE_LETTERS[mode].some((l) => p.perms.has(l));
  });
}

/** Whether the registered scopes together cover every permission `requested` asks for (same context and type). */
function covers(registered: ParsedScope[], requested: ParsedScope): boolean {
  const matching = registered.filter((g) => g.context === requested.context && (g.type === '*' || g.type === requested.type));
  return [...requested.perms].every((l) => matching.some((g) => g.perms.has(l)));
}

/**
 * The scopes to put in a token when a client asks for `requested` (RFC 6749 §3.3): those requested scopes that the
 * registration covers; all registered scopes when nothing is requested.
 */
export function narrowScopes(registered: readonly string[], requested: string | undefined): string[] {
  if (!requested?.trim()) return [...registered];
  const reg = registered.map(parseScope).filter((p) => p !== undefined);
  return requested
    .split(/\s+/)
    .filter(Boolean)
    .filter((s) => {
      const p = parseScope(s);
      return p !== undefined && covers(reg, p);
    });
}
