/** Test helpers: compact construction of institution-level Patients as registration systems send them. */
import type { Patient } from '@medplum/fhirtypes';
import { RESIDENT_ID_SYSTEM, type MatchInput } from './features.ts';

export interface PersonSpec {
  name?: string;
  family?: string;
  given?: string;
  rid?: string;
  passport?: string;
  birthDate?: string;
  gender?: Patient['gender'];
  phone?: string;
  village?: string;
  address?: string;
  mrn?: string;
}

let seq = 0;

/** A Patient input for matchIncoming; `institution` defaults to a new one so that every call is another source. */
export function patientInput(spec: PersonSpec, institution = `inst-${++seq}`, patientKey = `pk-${++seq}`): MatchInput {
  const identifier: NonNullable<Patient['identifier']> = [{ system: `urn:${institution}:mrn`, value: spec.mrn ?? `MRN${seq}`, type: { coding: [{ code: 'MR' }] } }];
  if (spec.rid) identifier.push({ system: RESIDENT_ID_SYSTEM, value: spec.rid });
  if (spec.passport) identifier.push({ system: 'urn:passport', value: spec.passport, type: { coding: [{ code: 'PPN' }] } });
  const patient: Patient = {
    resourceType: 'Patient',
    id: patientKey,
    identifier,
    ...(spec.name || spec.family ? { name: [spec.name ? { text: spec.name } : { family: spec.family, given: spec.given ? [spec.given] : [] }] } : {}),
    ...(spec.birthDate ? { birthDate: spec.birthDate } : {}),
    ...(spec.gender ? { gender: spec.gender } : {}),
    ...(spec.phone ? { telecom: [{ system: 'phone', value: spec.phone }] } : {}),
    ...(spec.village || spec.address ? { address: [{ text: spec.address, extension: spec.village ? [{ url: 'urn:division', valueCode: spec.village }] : undefined }] } : {}),
  };
  return { patient, patientKey, institutionId: institution };
}
