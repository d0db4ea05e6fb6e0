/**
 * Resident authorizations (一使用一授权): a resident grants an institution or one clinician access to their regional
 * record with a FHIR R4 Consent (https://hl7.org/fhir/R4/consent.html, scope patient-privacy, provision permit with
 * the grantee as actor), and revokes it by setting the Consent inactive. Stored through the FHIR repository with
 * `patient` = the golden person (`Patient/P…`), so the Consent's patient_key is the person id and the relationship
 * check (relationship.ts) finds it with the person's other keys.
 */
import type { Consent } from '@medplum/fhirtypes';
import type { FhirRepository } from '../fhir/index.ts';
import { notFoundText, fail, forbiddenText } from '../fhir/outcomes.ts';
import { organizationId } from '../standardize/ids.ts';

const USER_ID_SYSTEM = 'https://healthbrain.cn/fhir/sid/user';

export interface ConsentGrant {
  personId: string;
  /** Grantee: an institution (all its clinicians) … */
  institutionId?: string;
  institutionName?: string;
  /** … or one clinician (user id). */
  user?: string;
  /** ISO date the authorization ends (default: open). */
  end?: string;
  now: Date;
}

/** The Consent resource of a grant. */
export function consentResource(g: ConsentGrant): Consent {
  const grantee = g.user
    ? { reference: { identifier: { system: USER_ID_SYSTEM, value: g.user }, display: g.user } }
    : { reference: { reference: `Organization/${organizationId(g.institutionId!)}`, ...(g.institutionName ? { display: g.institutionName } : {}) } };
  return {
    resourceType: 'Consent',
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: `Patient/${g.personId}` },
    dateTime: g.now.toISOString(),
    performer: [{ reference: `Patient/${g.personId}` }],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
    provision: {
      type: 'permit',
      period: { start: g.now.toISOString(), ...(g.end ? { end: g.end } : {}) },
      actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, ...grantee }],
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
    },
  };
}

/** Creates the authorization; returns the stored Consent. */
export async function grantConsent(repo: FhirRepository, g: ConsentGrant): Promise<Consent> {
  if (!g.institutionId && !g.user) fail(forbiddenText('An authorization names an institution or a clinician'));
  const { resource } = await repo.create({}, consentResource(g));
  return resource as Consent;
}

/** The person's authorizations, newest first (active and revoked). */
export async function listConsents(repo: FhirRepository, personId: string): Promise<Consent[]> {
  const { rows } = await repo.db.query<{ content: Consent }>(
    `SELECT content FROM fhir_resource WHERE patient_key = $1 AND resource_type = 'Consent' AND NOT deleted ORDER BY last_updated DESC`,
    [personId],
  );
  return rows.map((r) => r.content);
}

/** Revokes (status inactive, provision period ended now) one of the person's authorizations. */
export async function revokeConsent(repo: FhirRepository, personId: string, consentId: string, now: Date): Promise<Consent> {
  const current = (await repo.read('Consent', consentId).catch(() => undefined)) as Consent | undefined;
  if (!current || current.patient?.reference !== `Patient/${personId}`) fail(notFoundText(`Consent/${consentId} not found`));
  const revoked: Consent = { ...current, status: 'inactive', provision: { ...current.provision, period: { ...current.provision?.period, end: now.toISOString() } } };
  const { resource } = await repo.update({}, 'Consent', consentId, revoked);
  return resource as Consent;
}
