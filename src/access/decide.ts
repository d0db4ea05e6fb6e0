/**
 * The record access rules (issue 6), decided in the domain for every way into a person's data — the record summary,
 * Patient/$everything and FHIR reads/searches of Patient-compartment resources:
 *
 * | who | may open a person's identified record when |
 * |---|---|
 * | clinician | a care relationship (relationship.ts), or the resident's authorization (Consent), or break-the-glass: purpose ETREAT with a stated reason — allowed, flagged for review |
 * | resident | it is their own record (`self`); anyone else's: refused |
 * | operator, admin | only by break-the-glass with a stated reason (a data-quality investigation is not care): basis `operator`, flagged for review; they see aggregates and masked lists without it |
 * | institution system | its own institution has a care relationship (a HIS reading back what it sent, or a patient it treats) |
 * | manager, researcher, auditor | never: aggregates, de-identified extracts and the audit trail are their views |
 *
 * Purposes of use are v3-ActReason codes: TREAT, ETREAT (emergency / break-the-glass), PATRQT (patient request),
 * HOPERAT (operations), HRESCH (research).
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { Actor } from '../fhir/context.ts';
import type { AccessBasis } from '../record/summary-types.ts';
import { ACCESS_OUTCOME_SYSTEM, NO_CARE_RELATIONSHIP } from '../record/summary-types.ts';
import type { Queryable } from '../store/index.ts';
import { residentPersonId, type PersonKeys } from './identity.ts';
import { relationshipsOf } from './relationship.ts';

export interface AccessOptions {
  /** How long after an encounter or order at the institution the care relationship lasts (days). */
  careWindowDays: number;
}

export const DEFAULT_ACCESS_OPTIONS: AccessOptions = { careWindowDays: 365 };

export type DenialCode = typeof NO_CARE_RELATIONSHIP | 'not-self' | 'role-not-permitted' | 'reason-required';

export type AccessDecision =
  | { allowed: true; basis: AccessBasis; purpose: string; btg: boolean; reason?: string; unmasked: boolean }
  | { allowed: false; code: DenialCode; text: string; purpose: string; reason?: string };

export interface AccessAsk {
  /** Declared purpose of use; ETREAT asks for break-the-glass. */
  purpose?: string;
  reason?: string;
  now: Date;
  options?: AccessOptions;
}

const DEFAULT_PURPOSE: Record<string, string> = {
  clinician: 'TREAT', resident: 'PATRQT', operator: 'HOPERAT', admin: 'HOPERAT', manager: 'HOPERAT', researcher: 'HRESCH', auditor: 'HOPERAT',
};

/**
 * Decides whether `actor` may read the identified record of `person` — the person-record half of `decide`
 * (decide-request.ts), which every request path calls; only `decide` calls this.
 */
export async function decideRecordAccess(q: Queryable, actor: Actor, person: PersonKeys, ask: AccessAsk): Promise<AccessDecision> {
  const role = actor.kind === 'system' && actor.role !== 'admin' ? 'system' : (actor.role ?? 'system');
  const purpose = ask.purpose?.trim().toUpperCase() || DEFAULT_PURPOSE[role] || 'TREAT';
  const reason = ask.reason?.trim() || undefined;
  const deny = (code: DenialCode, text: string): AccessDecision => ({ allowed: false, code, text, purpose, reason });
  const glass = (basis: AccessBasis): AccessDecision => ({ allowed: true, basis, purpose: 'ETREAT', btg: true, reason, unmasked: true });
  const options = ask.options ?? DEFAULT_ACCESS_OPTIONS;
  switch (role) {
    case 'resident': {
      const own = await residentPersonId(q, actor);
      return own === person.personId ? { allowed: true, basis: 'self', purpose, btg: false, unmasked: true } : deny('not-self', 'Residents may open only their own record');
    }
    case 'clinician':
    case 'system': {
      if (actor.institutionId) {
        const r = await relationshipsOf(q, { institutionId: actor.institutionId, user: actor.subject, personId: person.personId, patientKeys: person.patientKeys, now: ask.now, windowDays: options.careWindowDays });
        if (r.encounterOrOrder || r.referral || r.familyDoctor) return { allowed: true, basis: 'care-relationship', purpose, btg: false, unmasked: true };
        if (r.consent) return { allowed: true, basis: 'resident-authorization', purpose, btg: false, unmasked: true };
      }
      if (role === 'clinician' && purpose === 'ETREAT') return reason ? glass('break-the-glass') : deny('reason-required', 'Break-the-glass needs a stated reason');
      return deny(NO_CARE_RELATIONSHIP, 'No care relationship with this patient');
    }
    case 'operator':
    case 'admin':
      if (purpose === 'ETREAT') return reason ? glass('operator') : deny('reason-required', 'Break-the-glass needs a stated reason');
      return deny(NO_CARE_RELATIONSHIP, 'No care relationship with this patient');
    default:
      return deny('role-not-permitted', `The ${role} role has no access to identified patient records`);
  }
}

/** The 403 OperationOutcome of a denial (docs/RECORD-API.md): `details.coding` carries the access-outcome code. */
export function accessOutcome(d: { code: string; text: string }): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    id: 'forbidden',
    issue: [{ severity: 'error', code: 'forbidden', details: { coding: [{ system: ACCESS_OUTCOME_SYSTEM, code: d.code }], text: d.text } }],
  };
}
