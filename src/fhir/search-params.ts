/**
 * The search parameters this server supports, declared as data (https://hl7.org/fhir/R4/searchparameter-registry.html).
 * Each names its FHIR R4 code, type, the column it is extracted into at write time, and the element paths (the
 * official SearchParameter expressions, reduced to plain paths) per resource type. Extraction, the search SQL and
 * the CapabilityStatement are all generated from this one list, so what is advertised is exactly what works.
 */

/** Search columns of fhir_resource / fhir_shared_resource (see migration 0010). */
export type SearchColumn = 'identifiers' | 'codes' | 'categories' | 'tokens' | 'strings' | 'refs' | 'date';

export interface SearchParamDef {
  code: string;
  type: 'token' | 'string' | 'date' | 'reference';
  column: SearchColumn;
  /** Element paths, `Type.element.child`; `x[x]` matches any choice (effectiveDateTime, effectivePeriod …). */
  paths: string[];
  /** Reference params: the target types (also used to expand a bare id). */
  targets?: string[];
  /** Token params: keep only values passing this test (e.g. telecom of system phone). */
  filter?: (value: unknown) => boolean;
  /** The reference this param names is the row's patient_key (search goes to the co-located btree). */
  patientKey?: boolean;
  description: string;
}

const CLINICAL = ['Encounter', 'Condition', 'Observation', 'DiagnosticReport', 'MedicationRequest', 'Procedure', 'Immunization', 'AllergyIntolerance'];
const SUBJECT_TYPES = ['Encounter', 'Condition', 'Observation', 'DiagnosticReport', 'MedicationRequest', 'Procedure'];
const phone = (v: unknown): boolean => (v as { system?: string }).system === 'phone';
const email = (v: unknown): boolean => (v as { system?: string }).system === 'email';

export const SEARCH_PARAMS: SearchParamDef[] = [
  {
    code: 'identifier', type: 'token', column: 'identifiers', description: 'A business identifier (system|value)',
    paths: ['Patient', 'Practitioner', 'Organization', 'Location', 'Medication', ...CLINICAL].map((t) => `${t}.identifier`),
  },
  // Patient demographics
  { code: 'name', type: 'string', column: 'strings', description: 'Prefix of any part of a name (Chinese or Latin)',
    paths: ['Patient.name', 'Practitioner.name', 'Organization.name', 'Organization.alias', 'Location.name'] },
  { code: 'family', type: 'string', column: 'strings', description: 'Prefix of the family name', paths: ['Patient.name.family', 'Practitioner.name.family'] },
  { code: 'given', type: 'string', column: 'strings', description: 'Prefix of a given name', paths: ['Patient.name.given', 'Practitioner.name.given'] },
  { code: 'address', type: 'string', column: 'strings', description: 'Prefix of any part of an address (text, line, district, city, state)',
    paths: ['Patient.address', 'Practitioner.address', 'Organization.address'] },
  { code: 'address-city', type: 'string', column: 'strings', description: 'Prefix of the city', paths: ['Patient.address.city', 'Organization.address.city'] },
  { code: 'address-state', type: 'string', column: 'strings', description: 'Prefix of the state (province)', paths: ['Patient.address.state', 'Organization.address.state'] },
  { code: 'birthdate', type: 'date', column: 'date', description: 'Date of birth', paths: ['Patient.birthDate'] },
  { code: 'gender', type: 'token', column: 'tokens', description: 'Administrative gender', paths: ['Patient.gender', 'Practitioner.gender'] },
  { code: 'telecom', type: 'token', column: 'tokens', description: 'Any telecom value', paths: ['Patient.telecom', 'Practitioner.telecom', 'Organization.telecom'] },
  { code: 'phone', type: 'token', column: 'tokens', description: 'A phone number', paths: ['Patient.telecom', 'Practitioner.telecom', 'Organization.telecom'], filter: phone },
  { code: 'email', type: 'token', column: 'tokens', description: 'An email address', paths: ['Patient.telecom', 'Practitioner.telecom'], filter: email },
  { code: 'active', type: 'token', column: 'tokens', description: 'Whether the record is active', paths: ['Patient.active', 'Practitioner.active', 'Organization.active'] },
  { code: 'organization', type: 'reference', column: 'refs', description: 'The managing organization', targets: ['Organization'], paths: ['Patient.managingOrganization'] },
  { code: 'general-practitioner', type: 'reference', column: 'refs', description: 'Nominated primary care provider', targets: ['Practitioner', 'Organization', 'PractitionerRole'], paths: ['Patient.generalPractitioner'] },
  { code: 'link', type: 'reference', column: 'refs', description: 'Another Patient resource concerning the same person', targets: ['Patient', 'RelatedPerson'], paths: ['Patient.link.other'] },
  // The Patient a clinical resource is about
  { code: 'patient', type: 'reference', column: 'refs', description: 'The Patient the resource is about', targets: ['Patient'], patientKey: true,
    paths: [...SUBJECT_TYPES.map((t) => `${t}.subject`), 'Immunization.patient', 'AllergyIntolerance.patient', 'Consent.patient'] },
  // An AuditEvent is stored under one person but a search's event names every person it returned (issue 10): its
  // `patient` is matched on any entity, through refs, so each person's "who viewed me" finds it.
  { code: 'patient', type: 'reference', column: 'refs', description: 'A Patient (person) the event concerns, any entity', targets: ['Patient'], paths: ['AuditEvent.entity.what'] },
  { code: 'subject', type: 'reference', column: 'refs', description: 'The subject of the resource', targets: ['Patient', 'Group', 'Device', 'Location'],
    paths: SUBJECT_TYPES.map((t) => `${t}.subject`) },
  { code: 'encounter', type: 'reference', column: 'refs', description: 'The encounter of the resource', targets: ['Encounter'],
    paths: ['Condition', 'Observation', 'DiagnosticReport', 'MedicationRequest', 'Procedure'].map((t) => `${t}.encounter`) },
  // Clinical codes
  { code: 'code', type: 'token', column: 'codes', description: 'The code of the resource',
    paths: ['Observation.code', 'Condition.code', 'Procedure.code', 'DiagnosticReport.code', 'MedicationRequest.medicationCodeableConcept', 'Medication.code', 'AllergyIntolerance.code'] },
  { code: 'vaccine-code', type: 'token', column: 'codes', description: 'Vaccine product administered', paths: ['Immunization.vaccineCode'] },
  { code: 'type', type: 'token', column: 'codes', description: 'The kind', paths: ['Encounter.type', 'Organization.type', 'Location.type'] },
  { code: 'category', type: 'token', column: 'categories', description: 'The category',
    paths: ['Observation.category', 'Condition.category', 'Procedure.category', 'DiagnosticReport.category', 'MedicationRequest.category', 'AllergyIntolerance.category'] },
  { code: 'class', type: 'token', column: 'categories', description: 'Classification of the encounter (inpatient, outpatient …)', paths: ['Encounter.class'] },
  { code: 'status', type: 'token', column: 'tokens', description: 'The status',
    paths: ['Encounter.status', 'Observation.status', 'DiagnosticReport.status', 'MedicationRequest.status', 'Procedure.status', 'Immunization.status', 'Location.status', 'Medication.status', 'Consent.status'] },
  { code: 'clinical-status', type: 'token', column: 'tokens', description: 'The clinical status', paths: ['Condition.clinicalStatus', 'AllergyIntolerance.clinicalStatus'] },
  { code: 'verification-status', type: 'token', column: 'tokens', description: 'The verification status', paths: ['Condition.verificationStatus', 'AllergyIntolerance.verificationStatus'] },
  { code: 'intent', type: 'token', column: 'tokens', description: 'The intent of the request', paths: ['MedicationRequest.intent'] },
  // Dates: each type has one date column (date_lo/date_hi)
  { code: 'date', type: 'date', column: 'date', description: 'When the event happened',
    paths: ['Encounter.period', 'Observation.effective[x]', 'DiagnosticReport.effective[x]', 'Procedure.performed[x]', 'Immunization.occurrence[x]', 'AuditEvent.recorded', 'Consent.dateTime'] },
  { code: 'onset-date', type: 'date', column: 'date', description: 'Date the condition began', paths: ['Condition.onset[x]'] },
  { code: 'authoredon', type: 'date', column: 'date', description: 'When the prescription was written', paths: ['MedicationRequest.authoredOn'] },
  // References a record viewer follows with _include
  { code: 'performer', type: 'reference', column: 'refs', description: 'Who performed it', targets: ['Practitioner', 'Organization', 'PractitionerRole', 'Patient', 'RelatedPerson', 'CareTeam', 'Device'],
    paths: ['Observation.performer', 'DiagnosticReport.performer', 'Procedure.performer.actor', 'Immunization.performer.actor'] },
  { code: 'participant', type: 'reference', column: 'refs', description: 'Persons involved in the encounter', targets: ['Practitioner', 'PractitionerRole', 'RelatedPerson'], paths: ['Encounter.participant.individual'] },
  { code: 'practitioner', type: 'reference', column: 'refs', description: 'Practitioner involved in the encounter', targets: ['Practitioner'], paths: ['Encounter.participant.individual'] },
  { code: 'service-provider', type: 'reference', column: 'refs', description: 'The organization responsible for the encounter', targets: ['Organization'], paths: ['Encounter.serviceProvider'] },
  { code: 'result', type: 'reference', column: 'refs', description: 'Observations of the report', targets: ['Observation'], paths: ['DiagnosticReport.result'] },
  { code: 'medication', type: 'reference', column: 'refs', description: 'The medication prescribed', targets: ['Medication'], paths: ['MedicationRequest.medicationReference'] },
  { code: 'requester', type: 'reference', column: 'refs', description: 'Who asked for the medication', targets: ['Practitioner', 'PractitionerRole', 'Organization', 'Patient', 'RelatedPerson', 'Device'], paths: ['MedicationRequest.requester'] },
  { code: 'asserter', type: 'reference', column: 'refs', description: 'Who asserted the condition', targets: ['Practitioner', 'PractitionerRole', 'Patient', 'RelatedPerson'], paths: ['Condition.asserter'] },
  { code: 'location', type: 'reference', column: 'refs', description: 'Where it happened', targets: ['Location'], paths: ['Encounter.location.location', 'Immunization.location'] },
  { code: 'partof', type: 'reference', column: 'refs', description: 'The organization this one is part of', targets: ['Organization'], paths: ['Organization.partOf', 'Location.partOf'] },
  // Audit (issue 6, src/audit): AuditEvents are stored with patient_key = the EMPI person they concern. `agent` is the
  // user id of AuditEvent.agent.who.identifier — a token here, because platform users are not Practitioner resources.
  { code: 'agent', type: 'token', column: 'tokens', description: 'User id of the agent (AuditEvent.agent.who.identifier)', paths: ['AuditEvent.agent.who.identifier'] },
  { code: 'altid', type: 'token', column: 'tokens', description: 'Alternative user identity of the agent', paths: ['AuditEvent.agent.altId'] },
  { code: 'outcome', type: 'token', column: 'tokens', description: 'Whether the event succeeded (0) or failed (4, 8, 12)', paths: ['AuditEvent.outcome'] },
  { code: 'action', type: 'token', column: 'tokens', description: 'Type of action performed (C R U D E)', paths: ['AuditEvent.action'] },
  { code: 'policy', type: 'token', column: 'tokens', description: 'Policy that authorized the event (access basis; …#break-the-glass for review)', paths: ['AuditEvent.agent.policy'] },
  { code: 'based-on', type: 'reference', column: 'refs', description: 'The request this fulfils', targets: ['ServiceRequest', 'CarePlan', 'MedicationRequest'], paths: ['Observation.basedOn', 'DiagnosticReport.basedOn', 'Procedure.basedOn'] },
];

/** Parameters every resource type accepts (https://hl7.org/fhir/R4/search.html#all). */
export const COMMON_PARAMS = [
  { code: '_id', type: 'token' as const, description: 'Logical id of the resource' },
  { code: '_lastUpdated', type: 'date' as const, description: 'When the resource version last changed' },
];

/** Result parameters (https://hl7.org/fhir/R4/search.html#return) this server honours. */
export const RESULT_PARAMS = new Set(['_count', '_offset', '_sort', '_include', '_revinclude', '_total', '_summary', '_format']);

export interface TypeParam extends SearchParamDef {
  /** Paths of this param for one resource type. */
  typePaths: string[];
}

/** Index: resource type → param code → its declaration restricted to that type. */
export function paramsByType(): Map<string, Map<string, TypeParam>> {
  const out = new Map<string, Map<string, TypeParam>>();
  for (const def of SEARCH_PARAMS) {
    for (const path of def.paths) {
      const type = path.split('.')[0];
      let m = out.get(type);
      if (!m) out.set(type, (m = new Map()));
      const existing = m.get(def.code);
      if (existing) existing.typePaths.push(path);
      else m.set(def.code, { ...def, typePaths: [path] });
    }
  }
  return out;
}

/** Sortable params (code → column expression); `-code` sorts descending. */
export const SORTS: Record<string, string> = {
  _id: 'id',
  _lastUpdated: 'last_updated',
  date: 'date_lo',
  birthdate: 'date_lo',
  'onset-date': 'date_lo',
  authoredon: 'date_lo',
};
