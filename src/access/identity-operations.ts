/**
 * Who may call the identity operations (issue 10) and what they may see of the answer — minimum necessary (GB/T
 * 35273-2020 §5.2, 最小必要): the EMPI's cross-references and golden records name a person by every identifier they
 * have, so they are for the roles whose work is identity itself, never a side door into the register.
 *
 * | role | `match` (Patient/$match) | `pix` (Patient/$ihe-pix, PIXm) | `pdq` (Patient search, PDQm) | `review` · `merge` · `unmerge` (/admin/empi) |
 * |---|---|---|---|---|
 * | institution system | own-institution | own-institution | own-institution | refused |
 * | operator, admin | full | full | full | full |
 * | clinician | refused | refused | masked | refused |
 * | resident, manager, researcher, auditor | refused | refused | refused | refused |
 *
 * Output levels (how each is shaped: src/empi/identity-output.ts):
 *  - `full` — everything the EMPI holds: every institution's record numbers and Patients, resident ID, health card,
 *    phone. Operators run the EMPI (duplicate and overlay complaints, the review queue): they cannot decide whether
 *    two records are one person without the identifiers the decision rests on. Every call is audited (HOPERAT).
 *  - `own-institution` — a registration system (HIS/LIS) asking "who is this, and what is my number for them?": the
 *    golden person id and ITS OWN institution's record numbers and Patients; the resident ID, health card and phone
 *    only masked (golden Patients, so a clerk can confirm a match) and never in a PIXm answer (a masked value is no
 *    identifier); other institutions' record numbers never — the cross-reference to them is the region's, and a
 *    system that needs another institution's data goes through the record access rules for that patient.
 *  - `masked` — a clinician finding a person to open: demographics (name, sex, birth date) with masked resident ID,
 *    health card and phone, no record numbers; opening the record is then decided by the record access rules
 *    (src/access/decide.ts) and audited there. Clinicians do not call `$match`/`$ihe-pix`: registering and
 *    cross-referencing is the HIS's job, and the viewer resolves persons for them.
 *  - refused — residents see themselves through the record API, managers and researchers aggregates and
 *    de-identified extracts, auditors the audit trail; none of their work needs a person's identifiers. A refusal is
 *    a 403 OperationOutcome whose `details.coding` is `…/access-outcome#role-not-permitted` (as the record API's).
 *
 * Every call, allowed or refused, is audited by the caller of this decision (src/empi/identity-guard.ts).
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { Actor } from '../fhir/context.ts';
import { ACCESS_OUTCOME_SYSTEM } from '../record/summary-types.ts';

export type IdentityOperation = 'match' | 'pix' | 'pdq' | 'review' | 'merge' | 'unmerge';
export type IdentityOutput = 'full' | 'own-institution' | 'masked';
/** 403 codes: the role has no identity operations / a PIXm target domain is another institution's. */
export type IdentityDenialCode = 'role-not-permitted' | 'target-domain-not-permitted';

export type IdentityDecision =
  | { allowed: true; output: IdentityOutput; purpose: string }
  | { allowed: false; code: IdentityDenialCode; text: string; purpose: string };

type Row = Partial<Record<IdentityOperation, IdentityOutput>>;

/** The table above, as data. A role or operation missing here is refused. */
const TABLE: Record<string, Row> = {
  system: { match: 'own-institution', pix: 'own-institution', pdq: 'own-institution' },
  operator: { match: 'full', pix: 'full', pdq: 'full', review: 'full', merge: 'full', unmerge: 'full' },
  admin: { match: 'full', pix: 'full', pdq: 'full', review: 'full', merge: 'full', unmerge: 'full' },
  clinician: { pdq: 'masked' },
};

/** v3-ActReason purpose recorded when the token declares none. */
const DEFAULT_PURPOSE: Record<string, string> = { system: 'TREAT', clinician: 'TREAT', operator: 'HOPERAT', admin: 'HOPERAT' };

const OPERATION_NAME: Record<IdentityOperation, string> = {
  match: 'Patient/$match', pix: 'Patient/$ihe-pix', pdq: 'the patient search (PDQm)', review: 'the EMPI review queue', merge: 'EMPI merges', unmerge: 'EMPI unmerges',
};

/** The role the table knows the actor by: institution clients are `system`, the platform admin `admin`. */
export function identityRole(actor: Actor): string {
  if (actor.kind === 'system') return actor.role === 'admin' ? 'admin' : actor.institutionId ? 'system' : 'unknown';
  return actor.role ?? 'unknown';
}

/** Decides whether `actor` may call identity operation `op`, and at which output level. Pure: no database. */
export function decideIdentityOperation(actor: Actor, op: IdentityOperation): IdentityDecision {
  const role = identityRole(actor);
  const purpose = actor.purposeOfUse?.trim().toUpperCase() || DEFAULT_PURPOSE[role] || 'HOPERAT';
  const output = TABLE[role]?.[op];
  if (output) return { allowed: true, output, purpose };
  const who = role === 'system' ? 'An institution system' : `The ${role} role`;
  return { allowed: false, code: 'role-not-permitted', text: `${who} may not use ${OPERATION_NAME[op]}`, purpose };
}

/** The 403 OperationOutcome of a refused identity operation (`details.coding`: the access-outcome code). */
export function identityOutcome(d: { code: IdentityDenialCode; text: string }): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    id: 'forbidden',
    issue: [{ severity: 'error', code: 'forbidden', details: { coding: [{ system: ACCESS_OUTCOME_SYSTEM, code: d.code }], text: d.text } }],
  };
}
