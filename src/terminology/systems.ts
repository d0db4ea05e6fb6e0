/**
 * Code-system URIs the platform writes into FHIR codings. International systems use their HL7-registered URIs; the
 * Chinese national standards have no HL7-registered URI, so HealthBrain names them under one prefix (an operator may
 * alias them to the OIDs of the 互联互通 evaluation in a later release).
 */
const HB = 'https://healthbrain.cn/fhir';

export const SYSTEMS = {
  /** ICD-10 国家临床版 2.0 (GB/T 14396 lineage), codes as printed (I10, E11.9). */
  icd10: `${HB}/CodeSystem/icd-10-cn`,
  loinc: 'http://loinc.org',
  ucum: 'http://unitsofmeasure.org',
  /** ICD-9-CM-3 手术操作分类代码国家临床版 (procedures). */
  icd9cm3: `${HB}/CodeSystem/icd-9-cm-3-cn`,
  /** GB/T 2261.1-2003 人的性别代码 — the OID the WS/T 500 shared documents use for 生理性别代码表. */
  sex: 'urn:oid:2.16.156.10011.2.3.3.4',
  /** GB/T 2261.2-2003 婚姻状况代码. */
  marital: `${HB}/CodeSystem/gb-t-2261.2`,
  /** GB/T 2260 中华人民共和国行政区划代码 (6 digits). */
  division: `${HB}/CodeSystem/gb-t-2260`,
  /** 国家基本公共卫生服务规范（第三版） code sets, one system per set: `${HB}/CodeSystem/bphs-<set>`. */
  bphsPrefix: `${HB}/CodeSystem/bphs-`,
  /** HealthBrain vaccine codes for the national immunization programme (国家免疫规划) and common paid vaccines. */
  vaccine: `${HB}/CodeSystem/nip-vaccine`,
  cvx: 'http://hl7.org/fhir/sid/cvx',
  /** WHO ATC (drugs by active substance), with Chinese generic names (通用名). */
  atc: 'http://www.whocc.no/atc',
  /** Identifier systems. */
  residentId: `${HB}/sid/resident-id`,
  passport: `${HB}/sid/passport`,
  /** Local code systems of an institution: `${HB}/local/<institution>/<kind>`. */
  localPrefix: `${HB}/local/`,
} as const;

/** The code system of one 基本公卫 code set (`followup-method`, `followup-class` …). */
export function bphsSystem(set: string): string {
  return SYSTEMS.bphsPrefix + set;
}

/** What a local code denotes, which decides the standard system it maps into. */
export type LocalKind = 'diagnosis' | 'lab' | 'panel' | 'exam' | 'drug' | 'vaccine' | 'sex' | 'procedure' | 'department';

export const TARGET_SYSTEM: Record<LocalKind, string | undefined> = {
  diagnosis: SYSTEMS.icd10,
  lab: SYSTEMS.loinc,
  panel: SYSTEMS.loinc,
  exam: SYSTEMS.loinc,
  drug: SYSTEMS.atc,
  vaccine: SYSTEMS.vaccine,
  sex: SYSTEMS.sex,
  procedure: SYSTEMS.icd9cm3,
  department: undefined,
};

/** The URI HealthBrain gives an institution's local code system of one kind (when the sender names none). */
export function localSystem(institutionId: string, kind: LocalKind | string): string {
  return `${SYSTEMS.localPrefix}${encodeURIComponent(institutionId)}/${kind}`;
}

/** Names accepted on the command line for `terminology import --system`. */
export const SYSTEM_ALIASES: Record<string, string> = {
  'icd-10': SYSTEMS.icd10, icd10: SYSTEMS.icd10, 'icd-10-cn': SYSTEMS.icd10,
  loinc: SYSTEMS.loinc, atc: SYSTEMS.atc, 'icd-9-cm-3': SYSTEMS.icd9cm3, icd9cm3: SYSTEMS.icd9cm3, vaccine: SYSTEMS.vaccine, sex: SYSTEMS.sex, division: SYSTEMS.division,
};
