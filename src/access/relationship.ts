/**
 * Care relationships (issue 6 access rules): the facts in the regional record that give a clinician's institution a
 * legitimate reason to open a person's cross-institution record. All are read from the person's own rows — every
 * institution-level Patient the EMPI links to the person, resolved at query time — in ONE statement:
 *  - an encounter, order (ServiceRequest) or prescription (MedicationRequest) at the institution within the window;
 *  - a referral: a ServiceRequest (active or completed, within the window) whose performer is the institution;
 *  - a family-doctor contract (家庭医生签约): an active EpisodeOfCare of type `family-doctor-contract` (how the
 *    standardizer stores 签约, src/standardize/csv.ts) managed by the institution;
 *  - a resident authorization (一使用一授权): an active Consent of the person that permits the institution or the
 *    clinician (src/access/consent.ts).
 * Only what institutions submitted counts (issue 10): a row a person wrote through the FHIR API (`user_written`,
 * migration 0020) is no encounter, order, referral or contract — a clinician cannot create their own relationship.
 * Consents are the exception: residents write them, and that is their point.
 */
import type { Queryable } from '../store/index.ts';
import { organizationId } from '../standardize/ids.ts';

export interface Relationships {
  encounterOrOrder: boolean;
  referral: boolean;
  familyDoctor: boolean;
  consent: boolean;
}

export const RECORD_KIND = 'https://healthbrain.cn/fhir/CodeSystem/record-kind';

/** The relationships between (institution, user) and a person whose patient keys are `patientKeys`. */
export async function relationshipsOf(
  q: Queryable,
  a: { institutionId: string; user: string; personId: string; patientKeys: string[]; now: Date; windowDays: number },
): Promise<Relationships> {
  const since = new Date(a.now.getTime() - a.windowDays * 86_400_000).toISOString();
  const today = a.now.toISOString().slice(0, 10);
  const org = `Organization/${organizationId(a.institutionId)}`;
  const { rows } = await q.query<{ care: boolean; referral: boolean; contract: boolean; consent: boolean }>(
    `SELECT
       EXISTS (SELECT 1 FROM fhir_resource WHERE patient_key = ANY($1::text[]) AND resource_type IN ('Encounter', 'ServiceRequest', 'MedicationRequest')
               AND institution_id = $2 AND NOT deleted AND NOT user_written AND coalesce(date_hi, date_lo, last_updated) >= $3::timestamptz) AS care,
       EXISTS (SELECT 1 FROM fhir_resource WHERE patient_key = ANY($1::text[]) AND resource_type = 'ServiceRequest' AND NOT deleted AND NOT user_written
               AND status IN ('active', 'completed') AND content->'performer' @> $4::jsonb
               AND coalesce(date_hi, date_lo, last_updated) >= $3::timestamptz) AS referral,
       EXISTS (SELECT 1 FROM fhir_resource WHERE patient_key = ANY($1::text[]) AND resource_type = 'EpisodeOfCare' AND NOT deleted AND NOT user_written AND status = 'active'
               AND (institution_id = $2 OR content->'managingOrganization'->>'reference' = $5)
               AND content->'type' @> '[{"coding":[{"code":"family-doctor-contract"}]}]'::jsonb
               AND coalesce(content->'period'->>'end', '9999') >= $6) AS contract,
       EXISTS (SELECT 1 FROM fhir_resource WHERE patient_key = ANY($7::text[]) AND resource_type = 'Consent' AND NOT deleted AND status = 'active'
               AND (content->'provision'->'actor' @> $8::jsonb OR content->'provision'->'actor' @> $9::jsonb)
               AND coalesce(content->'provision'->'period'->>'end', '9999') >= $6
               AND coalesce(content->'provision'->'period'->>'start', '0000') <= $10) AS consent`,
    [
      a.patientKeys, a.institutionId, since, JSON.stringify([{ reference: org }]), org, today,
      [a.personId, ...a.patientKeys], JSON.stringify([{ reference: { reference: org } }]),
      JSON.stringify([{ reference: { identifier: { value: a.user } } }]), a.now.toISOString(),
    ],
  );
  const r = rows[0];
  return { encounterOrOrder: r.care, referral: r.referral, familyDoctor: r.contract, consent: r.consent };
}
