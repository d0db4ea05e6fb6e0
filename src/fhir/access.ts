/**
 * The access hook every FHIR interaction passes before it touches data. Today: SMART scopes
 * (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html), v1 (`.read` / `.write` / `.*`) and v2
 * (`.cruds` letters) forms, for `system/` and `user/` contexts. Later issues add their rules as `AccessRule`s in the
 * services (relationship, purpose of use, consent, break-the-glass) and audit — here, in one place.
 */
import type { Actor, RequestContext } from './context.ts';
import { fail, forbiddenText } from './outcomes.ts';

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
 * A further rule: return a reason string to deny, undefined to let the request through. Rules run after the scope
 * check, in order. This is the hook for relationship / purpose-of-use / consent rules and for audit.
 */
export type AccessRule = (ctx: RequestContext, req: AccessRequest) => string | undefined | Promise<string | undefined>;

/** Throws 403 (OperationOutcome) unless the actor's scopes and every rule allow `req`. */
export async function checkAccess(ctx: RequestContext, req: AccessRequest, rules: AccessRule[] = []): Promise<void> {
  if (!scopeAllows(ctx.actor, req.interaction, req.resourceType)) {
    fail(forbiddenText(`Scope missing: ${req.interaction} of ${req.resourceType} needs e.g. ${ctx.actor.kind}/${req.resourceType}.${LETTER[req.interaction] === 'r' || LETTER[req.interaction] === 's' ? 'read' : 'write'}`));
  }
  for (const rule of rules) {
    const reason = await rule(ctx, req);
    if (reason) fail(forbiddenText(reason));
  }
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
