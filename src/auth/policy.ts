import type { OperationOutcome } from '@medplum/fhirtypes';
import type { Actor, FhirRequest } from '../fhir/context.ts';
import { authOutcome } from './errors.ts';
import { scopeAllows, type AccessMode } from './scopes.ts';

/**
 * THE ACCESS HOOK. Every authenticated FHIR request passes each policy in order before the FHIR router sees it; the
 * first outcome returned denies the request with it (403 unless the outcome says otherwise). Scopes are checked now;
 * later issues append policies here for relationship (treating clinician, family-doctor contract), purpose of use
 * (break-the-glass = ETREAT, reviewed later), resident consent (一使用一授权) and audit. Finer, per-resource rules that
 * need the stored data run in the domain with `ctx.actor`, never only in HTTP.
 */
export type AccessPolicy = (actor: Actor, req: FhirRequest) => OperationOutcome | undefined | Promise<OperationOutcome | undefined>;

export interface AccessNeed {
  resourceType: string;
  mode: AccessMode;
}

function modeOf(method: string, path: string): AccessMode {
  if (method === 'GET') return 'read';
  return method === 'POST' && path.split('/').filter(Boolean).pop() === '_search' ? 'read' : 'write';
}

function typeOf(path: string): string {
  const first = path.split(/[/?]/)[0];
  return /^[A-Z][A-Za-z]+$/.test(first) ? first : '*';
}

/**
 * What a FHIR request needs: the resource type from the path and read/write from the interaction. A Bundle posted to
 * the base needs what each of its entries needs (FHIR R4 §3.1.0.11 batch/transaction). Operations (`$name`) need
 * nothing here: whether one reads or writes is declared where it is registered, and the FHIR module checks it.
 */
export function accessNeeds(req: FhirRequest): AccessNeed[] {
  const path = req.path.replace(/^\/+/, '');
  const isOperation = (p: string) => p.split(/[/?]/).some((s) => s.startsWith('$'));
  if (isOperation(path)) return [];
  if (path === '' && req.method === 'POST') {
    const entries = (req.body as { entry?: Array<{ request?: { method?: string; url?: string } }> } | undefined)?.entry;
    if (!Array.isArray(entries)) return [{ resourceType: '*', mode: 'write' }];
    return entries.flatMap((e) => {
      const url = String(e?.request?.url ?? '');
      return isOperation(url) ? [] : [{ resourceType: typeOf(url), mode: modeOf(String(e?.request?.method ?? 'POST').toUpperCase(), url) }];
    });
  }
  return [{ resourceType: typeOf(path), mode: modeOf(req.method, path) }];
}

/** Denies a request for which the token holds no scope (SMART App Launch scopes). */
export const scopePolicy: AccessPolicy = (actor, req) => {
  for (const need of accessNeeds(req)) {
    if (!scopeAllows(actor.scopes, need.resourceType, need.mode)) {
      const what = need.resourceType === '*' ? 'all resource types' : need.resourceType;
      return authOutcome(403, `token scopes do not allow ${need.mode} on ${what}`);
    }
  }
  return undefined;
};

/** The policies every deployment runs, in order. */
export const defaultPolicies: readonly AccessPolicy[] = [scopePolicy];

/** Runs the policies in order; the first denial wins. */
export async function authorize(policies: readonly AccessPolicy[], actor: Actor, req: FhirRequest): Promise<OperationOutcome | undefined> {
  for (const policy of policies) {
    const denial = await policy(actor, req);
    if (denial) return denial;
  }
  return undefined;
}
