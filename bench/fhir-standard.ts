import { randomUUID } from 'node:crypto';

/**
 * Issue 17's bench Bundles (`npm run bench -- ingest fhir --standard-codes`): a visit coded the way Synthea and
 * international EHRs code it — no local code, nothing for an operator to map. 10 resources per visit, as the local-code
 * visits: Encounter with a SNOMED CT type, a SNOMED CT Condition (no ICD-10-CN map known: a data-quality finding),
 * Observations in LOINC inside the shipped subset (body weight, converted) and outside it (pain score, LDL direct —
 * kept as sent with their UCUM units), a blood-pressure panel with components, an RxNorm MedicationRequest, a CVX
 * Immunization and a SNOMED CT Procedure. The Patient (entries[0] of the visit) is the caller's.
 */
const SCT = 'http://snomed.info/sct';
const LN = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const DX = [['162864005', 'Body mass index 30+ - obesity (finding)'], ['44054006', 'Diabetes mellitus type 2 (disorder)'], ['38341003', 'Hypertensive disorder, systemic arterial (disorder)'], ['195662009', 'Acute viral pharyngitis (disorder)']] as const;
const RX = [['314076', 'lisinopril 10 MG Oral Tablet'], ['860975', '24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet'], ['197361', 'Amlodipine 5 MG Oral Tablet']] as const;
const CVX = [['140', 'Influenza, seasonal, injectable, preservative free'], ['133', 'Pneumococcal conjugate PCV 13'], ['08', 'Hep B, adolescent or pediatric']] as const;

export function standardCodedVisit(entries: unknown[], patientUrl: string, encounterUrl: string, visit: number, day: string): void {
  const at = (hm: string) => `${day}T${hm}:00+08:00`;
  const push = (resource: Record<string, unknown>) => entries.push({ fullUrl: `urn:uuid:${randomUUID()}`, resource, request: { method: 'POST', url: resource.resourceType } });
  const enc = entries[entries.length - 1] as { resource: Record<string, unknown> };
  enc.resource.type = [{ coding: [{ system: SCT, code: '162673000', display: 'General examination of patient (procedure)' }], text: 'General examination of patient (procedure)' }];
  const dx = DX[visit % DX.length];
  push({
    resourceType: 'Condition', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
    code: { coding: [{ system: SCT, code: dx[0], display: dx[1] }], text: dx[1] }, subject: { reference: patientUrl }, encounter: { reference: encounterUrl }, onsetDateTime: at('09:10'), recordedDate: at('09:10'),
  });
  const obs = (code: string, display: string, cat: string, value: Record<string, unknown>) => push({
    resourceType: 'Observation', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: cat }] }],
    code: { coding: [{ system: LN, code, display }], text: display }, subject: { reference: patientUrl }, encounter: { reference: encounterUrl }, effectiveDateTime: at('09:05'), ...value,
  });
  const q = (value: number, unit: string) => ({ valueQuantity: { value, unit, system: UCUM, code: unit } });
  obs('29463-7', 'Body Weight', 'vital-signs', q(50 + (visit % 45), 'kg'));
  obs('72514-3', 'Pain severity - 0-10 verbal numeric rating [Score] - Reported', 'survey', q(visit % 10, '{score}'));
  obs('85354-9', 'Blood pressure panel with all children optional', 'vital-signs', {
    component: [
      { code: { coding: [{ system: LN, code: '8462-4', display: 'Diastolic Blood Pressure' }] }, ...q(60 + (visit % 40), 'mm[Hg]') },
      { code: { coding: [{ system: LN, code: '8480-6', display: 'Systolic Blood Pressure' }] }, ...q(100 + (visit % 60), 'mm[Hg]') },
    ],
  });
  obs('18262-6', 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay', 'laboratory', q(70 + (visit % 90), 'mg/dL'));
  const rx = RX[visit % RX.length];
  push({
    resourceType: 'MedicationRequest', status: 'active', intent: 'order', medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: rx[0], display: rx[1] }], text: rx[1] },
    subject: { reference: patientUrl }, encounter: { reference: encounterUrl }, authoredOn: at('09:30'), dosageInstruction: [{ sequence: 1, doseAndRate: [{ doseQuantity: { value: 1 } }] }],
  });
  const cvx = CVX[visit % CVX.length];
  push({
    resourceType: 'Immunization', status: 'completed', vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: cvx[0], display: cvx[1] }], text: cvx[1] },
    patient: { reference: patientUrl }, encounter: { reference: encounterUrl }, occurrenceDateTime: at('09:35'), primarySource: true,
  });
  push({
    resourceType: 'Procedure', status: 'completed', code: { coding: [{ system: SCT, code: '430193006', display: 'Medication Reconciliation (procedure)' }], text: 'Medication Reconciliation (procedure)' },
    subject: { reference: patientUrl }, encounter: { reference: encounterUrl }, performedPeriod: { start: at('09:20'), end: at('09:25') },
  });
}
