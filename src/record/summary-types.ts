/**
 * The record viewer's API contract (issue 6, 共享调阅): the shapes the web console reads. Pure types and a few
 * constants, no behaviour, so the web app (web/) and the server share one definition. See docs/RECORD-API.md for
 * the endpoints that return them.
 *
 * Every clinical item carries its source institution and its clinically relevant date, because a clinician reading a
 * regional record must always know where a fact came from and when.
 */

/** A reference to the institution (机构) a fact came from. `id` is the platform's Organization id. */
export interface InstitutionRef {
  id: string;
  name: string;
}

/** A coded concept in the standard the platform maps to (ICD-10, LOINC, GB/T 2261.1 …). */
export interface Coding {
  system: string;
  code: string;
  display: string;
}

/** Where one field of the golden record came from (EMPI survivorship): which institution, and when it said so. */
export interface FieldSource {
  institution: InstitutionRef;
  /** ISO date-time the source record was last updated. */
  updated: string;
}

export type Sex = 'male' | 'female' | 'other' | 'unknown';

/** Golden demographics (全员人口信息) of one person. Identifiers arrive masked unless the caller may see them whole. */
export interface GoldenDemographics {
  personId: string;
  name: string;
  sex: Sex;
  /** ISO date (YYYY-MM-DD). */
  birthDate?: string;
  /** GB 11643 resident ID, masked: 330523********1234. */
  residentIdMasked?: string;
  /** Electronic health card number (电子健康卡), masked. */
  healthCardMasked?: string;
  /** Mobile phone, masked: 138****5678. */
  phoneMasked?: string;
  /**
   * The same identifiers unmasked: present only in the record view, for a reader with a right to it (a clinician
   * with a care relationship, resident authorization or break-the-glass; the resident themself). Never in lists.
   */
  residentId?: string;
  healthCard?: string;
  phone?: string;
  address?: string;
  /** GB/T 2260 division name of the address, e.g. 浙江省湖州市安吉县. */
  division?: string;
  /** Per golden field (name, sex, birthDate, phone, address …), the source that won. */
  sources: Partial<Record<'name' | 'sex' | 'birthDate' | 'residentId' | 'healthCard' | 'phone' | 'address', FieldSource>>;
  /** Institution-level patient records linked to this person (PIX cross-reference), with their MRN. */
  links: Array<{ institution: InstitutionRef; mrn: string; patientId: string }>;
}

/** Common to every clinical item. */
export interface SourcedItem {
  /** FHIR resource reference, e.g. `Condition/abc`, for drill-down and lineage. */
  ref: string;
  institution: InstitutionRef;
  /** ISO date or date-time: onset, start, effective or issued time as fits the item. */
  date: string;
}

export interface Problem extends SourcedItem {
  code: Coding;
  clinicalStatus: 'active' | 'recurrence' | 'relapse' | 'inactive' | 'remission' | 'resolved';
  /** Chronic-disease management flag (慢病管理), e.g. hypertension, type-2 diabetes. */
  chronic?: boolean;
}

export interface Allergy extends SourcedItem {
  substance: Coding;
  criticality?: 'low' | 'high' | 'unable-to-assess';
  reaction?: string;
}

export interface Medication extends SourcedItem {
  medication: Coding;
  /** Free-text dosage as prescribed, e.g. "5 mg 口服 每日一次". */
  dosage?: string;
  status: 'active' | 'completed' | 'stopped' | 'on-hold' | 'unknown';
  /** ISO date the prescription ends, when known. */
  end?: string;
}

export type EncounterClass = 'outpatient' | 'inpatient' | 'emergency' | 'home' | 'public-health';

export interface Encounter extends SourcedItem {
  class: EncounterClass;
  /** Department (科室), e.g. 心内科. */
  department?: string;
  /** Main diagnosis of the visit. */
  diagnosis?: Coding;
  /** Discharge or end date-time for inpatient stays. */
  end?: string;
  practitioner?: string;
}

export interface ReferenceRange {
  low?: number;
  high?: number;
  /** Text form when the range is not numeric, e.g. "阴性". */
  text?: string;
}

/** One measured value of a lab series, already converted to the series' unit. */
export interface LabPoint extends SourcedItem {
  value: number;
  /** H/L/HH/LL/N interpretation as reported (or computed from the range). */
  interpretation?: 'N' | 'H' | 'L' | 'HH' | 'LL' | 'A';
}

/** All results of one standard test (LOINC) for the person, across institutions, in one UCUM unit. */
export interface LabSeries {
  code: Coding;
  /** UCUM unit every point is expressed in (values were converted on ingestion / query). */
  unit: string;
  referenceRange?: ReferenceRange;
  /** Points in ascending date order. */
  points: LabPoint[];
}

export interface ExamReport extends SourcedItem {
  /** Exam type, e.g. CT, DR, US, ECG (DICOM modality or local category). */
  modality: string;
  title: string;
  /** 检查所见 */
  findings: string;
  /** 检查结论 / 印象 */
  conclusion: string;
}

export interface Immunization extends SourcedItem {
  vaccine: Coding;
  doseNumber?: number;
  lotNumber?: string;
}

export interface FollowUp extends SourcedItem {
  /** Programme followed up, e.g. 高血压, 2型糖尿病. */
  programme: string;
  method?: 'clinic' | 'home' | 'phone' | 'online';
  /** Control assessment (控制满意 / 不满意 …) as a short code. */
  assessment?: 'controlled' | 'uncontrolled' | 'adverse-reaction' | 'complication';
  note?: string;
  /** Next follow-up due date. */
  nextDue?: string;
  practitioner?: string;
}

/** The summary of one person's regional record, as `GET /api/record/:personId/summary` returns it. */
export interface RecordSummary {
  demographics: GoldenDemographics;
  problems: Problem[];
  allergies: Allergy[];
  medications: Medication[];
  /** Newest first. */
  encounters: Encounter[];
  labs: LabSeries[];
  /** Newest first. */
  exams: ExamReport[];
  immunizations: Immunization[];
  /** Newest first. */
  followUps: FollowUp[];
  /** How access was granted, echoed so the viewer can show it (e.g. a break-the-glass banner). */
  access: { basis: AccessBasis; auditEventId?: string };
  /** ISO date-time the summary was assembled. */
  generated: string;
}

/** Why the reader may see this record (issue 6 access rules). */
export type AccessBasis = 'care-relationship' | 'resident-authorization' | 'break-the-glass' | 'self' | 'operator' | 'export' | 'platform-admin';

/**
 * `OperationOutcome.issue[0].details.coding[0].code` of the 403 answer when a clinician has no care relationship
 * with the person: the viewer offers break-the-glass only for this code, and shows a plain refusal otherwise.
 */
export const ACCESS_OUTCOME_SYSTEM = 'https://healthbrain.cn/fhir/CodeSystem/access-outcome';
export const NO_CARE_RELATIONSHIP = 'no-care-relationship';

/** One hit of the patient search (`GET /api/patients?q=`): a person (EMPI golden record) with masked identifiers. */
export interface PatientHit {
  personId: string;
  name: string;
  sex: Sex;
  birthDate?: string;
  residentIdMasked?: string;
  healthCardMasked?: string;
  phoneMasked?: string;
  /** Institutions where the person has a record, with the latest visit date there. */
  institutions: Array<InstitutionRef & { lastSeen?: string }>;
}

export type PatientSearchBy = 'any' | 'residentId' | 'name' | 'healthCard' | 'mrn';

export interface PatientSearchResult {
  total: number;
  hits: PatientHit[];
}

/** The region overview for operators (`GET /admin/overview`). */
export interface RegionOverview {
  generated: string;
  totals: { institutions: number; persons: number; resources: number; quarantined: number };
  institutions: Array<{
    institution: InstitutionRef;
    /** 医院 / 乡镇卫生院 / 村卫生室 / 社区卫生服务中心 / 公卫 as a code. */
    kind: 'hospital' | 'township' | 'village' | 'community' | 'public-health';
    /** Messages accepted, per ingestion channel, last 7 days. */
    received: Record<IngestChannel, number>;
    quarantined: number;
    /** Units landed and not yet standardized (the worker's queue): "still working", as opposed to lost. */
    pending: number;
    /** ISO date-time of the last accepted message, absent when none. */
    lastReceived?: string;
  }>;
  /** Accepted messages per day and channel, oldest first, last 14 days. */
  daily: Array<{ day: string } & Record<IngestChannel, number>>;
}

export type IngestChannel = 'fhir' | 'hl7v2' | 'csv';

/** The signed-in user as `GET /api/me` (and `POST /auth/demo-login`) describes them. */
export interface Me {
  subject: string;
  name: string;
  role: 'operator' | 'clinician' | 'resident' | 'manager' | 'researcher' | 'auditor' | 'exporter' | 'admin';
  institution?: InstitutionRef;
  /** For residents: their own person id. */
  personId?: string;
}
