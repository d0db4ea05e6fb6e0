/**
 * The access hook every FHIR interaction passes before it touches data. Today: SMART scopes
 * (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html), v1 (`.read` / `.write` / `.*`) and v2
 * (`.cruds` letters) forms, for `system/` and `user/` contexts. Later issues add their rules as `AccessRule`s in the
 * services (relationship, purpose of use, consent, break-the-glass) and audit — here, in one place.
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { Actor, RequestContext } from './context.ts';
import { fail, forbiddenText } from './outcomes.ts';
import type { WriteAs, WriteResult } from './write.ts';

/** FHIR interactions (https://hl7.org/fhir/R4/http.html) mapped to SMART v2 permission letters. */
export type Interaction =
  | 'read' | 'vread' | 'search-type' | 'history-instance' | 'history-type' | 'history-system'
  | 'create' | 'update' | 'delete' | 'operation';

const LETTER: Record<Interaction, 'c' | 'r' | 'u' | 'd' | 's'> = {
  read: 'r', vread: 'r', 'history-instance': 'r', 'history-type': 's', 'history-system': 's', 'search-type': 's',
  create: 'c', update: 'u', delete: 'd', operation: 'r',
};

export interface AccessRequest {
  interaction: Interaction;
  /** Resource type, or '*' for system-wide interactions. */
  resourceType: string;
  id?: string;
  /** The resource being written, when there is one (for rules that look at its subject). */
  resource?: unknown;
  /** The request's query parameters (for rules that look at a search's `patient`, issue 6). */
  query?: Array<[string, string]>;
}

/**
 * What a rule that lets a request through asks the router to enforce (issue 10): the access decision's SQL
 * restriction and page cap for searches and history, the per-stored-row check and writer kind for writes, and the
 * audit (and masking) of what the request returned or wrote — all applied by the router, never skipped.
 */
export interface AccessGrant {
  /** Searches and history: only Patient-compartment rows this institution submitted (inside the SQL). */
  restrictInstitution?: string;
  /** Searches: the largest page. */
  maxCount?: number;
  /** Writes: the writer kind and the check of every stored row the write replaces (inside its transaction). */
  writeAs?: WriteAs;
  /** Searches and history: runs on the Bundle before it leaves (audit of every patient in it, masking). */
  onResult?: (bundle: Bundle) => Promise<Bundle>;
  /** Writes: runs once they are committed (the audit of each create/update/delete). */
  onWritten?: (written: Array<NonNullable<WriteResult['written']>>) => Promise<void>;
}

/**
 * A further rule: return a reason string to deny, undefined or an AccessGrant to let the request through. Rules run
 * after the scope check, in order. This is the hook for relationship / purpose-of-use / consent rules and for audit.
 */
export type AccessRule = (ctx: RequestContext, req: AccessRequest) => string | undefined | AccessGrant | Promise<string | undefined | AccessGrant>;

/** Throws 403 (OperationOutcome) unless the actor's scopes and every rule allow `req`; returns what they grant. */
export async function checkAccess(ctx: RequestContext, req: AccessRequest, rules: AccessRule[] = []): Promise<AccessGrant> {
  if (!scopeAllows(ctx.actor, req.interaction, req.resourceType)) {
    fail(forbiddenText(`Scope missing: ${req.interaction} of ${req.resourceType} needs e.g. ${ctx.actor.kind}/${req.resourceType}.${LETTER[req.interaction] === 'r' || LETTER[req.interaction] === 's' ? 'read' : 'write'}`));
  }
  const grants: AccessGrant[] = [];
  for (const rule of rules) {
    const answer = await rule(ctx, req);
    if (typeof answer === 'string' && answer) fail(forbiddenText(answer));
    if (answer && typeof answer === 'object') grants.push(answer);
  }
  return mergeGrants(grants);
}

/** Several rules' grants as one: every restriction and every hook applies. */
export function mergeGrants(grants: AccessGrant[]): AccessGrant {
  if (grants.length <= 1) return grants[0] ?? {};
  const restricts = [...new Set(grants.map((g) => g.restrictInstitution).filter((x) => x !== undefined))];
  // Two rules restricting to different institutions leave nothing: no institution id is ''.
  const restrictInstitution = restricts.length > 1 ? '' : restricts[0];
  const caps = grants.map((g) => g.maxCount).filter((x) => x !== undefined);
  const checks = grants.map((g) => g.writeAs?.checkStored).filter((x) => x !== undefined);
  const results = grants.map((g) => g.onResult).filter((x) => x !== undefined);
  const writes = grants.map((g) => g.onWritten).filter((x) => x !== undefined);
  return {
    restrictInstitution,
    maxCount: caps.length ? Math.min(...caps) : undefined,
    writeAs: { userWritten: grants.some((g) => g.writeAs?.userWritten), checkStored: checks.length ? (row) => checks.forEach((c) => c(row)) : undefined },
    onResult: results.length ? async (b) => { for (const f of results) b = await f(b); return b; } : undefined,
    onWritten: writes.length ? async (w) => { for (const f of writes) await f(w); } : undefined,
  };
}

/**
 * Whether one of the actor's scopes grants `interaction` on `resourceType`. `patient/` scopes grant nothing yet:
 * they need the patient-compartment rule of the shared-record issue, and failing closed is the safe default.
 */
export function scopeAllows(actor: Actor, interaction: Interaction, resourceType: string): boolean {
  const letter = LETTER[interaction];
  for (const scope of actor.scopes) {
    const m = /^(system|user)\/([A-Za-z*]+)\.([a-z*]+)(\?.*)?$/.exec(scope);
    if (!m) continue;
    const [, , type, perm] = m;
    if (type !== '*' && type !== resourceType) continue;
    if (resourceType === '*' && type !== '*') continue;
    if (perm === '*') return true;
    if (perm === 'read' && (letter === 'r' || letter === 's')) return true;
    if (perm === 'write' && (letter === 'c' || letter === 'u' || letter === 'd')) return true;
    if (/^c?r?u?d?s?$/.test(perm) && perm.includes(letter)) return true;
  }
  return false;
}
