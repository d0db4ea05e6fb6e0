/**
 * DEV-ONLY fixtures: a fictitious county with three institutions and a patient seen at all three, so the pages can
 * be seen and screenshotted before the backend exists. Loaded only by `fixture-api.ts`, which only a fixtures build
 * (`vite --mode fixtures` or the dev server) can import, and only with `?fixtures=1`; the app then shows a banner
 * saying the data is fictitious. Never imported by production code paths.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type {
  Encounter,
  InstitutionRef,
  LabSeries,
  PatientHit,
  RecordSummary,
  RegionOverview,
} from '../../../src/record/summary-types.ts';

export const HOSPITAL: InstitutionRef = { id: 'org-ajrmyy', name: '安吉县人民医院' };
export const COMMUNITY: InstitutionRef = { id: 'org-dpsq', name: '递铺街道社区卫生服务中心' };
export const TOWNSHIP: InstitutionRef = { id: 'org-xfwsy', name: '孝丰镇中心卫生院' };
const TCM: InstitutionRef = { id: 'org-ajzyy', name: '安吉县中医医院' };
const TIANHUANGPING: InstitutionRef = { id: 'org-thpwsy', name: '天荒坪镇卫生院' };
const CDC: InstitutionRef = { id: 'org-ajcdc', name: '安吉县疾病预防控制中心' };

const LOINC = 'http://loinc.org';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';

let seq = 0;
const ref = (type: string) => `${type}/fx-${++seq}`;

function enc(date: string, institution: InstitutionRef, cls: Encounter['class'], department: string, code: string, display: string, practitioner: string, end?: string): Encounter {
  return { ref: ref('Encounter'), institution, date, class: cls, department, diagnosis: { system: ICD10, code, display }, practitioner, end };
}

function series(code: string, display: string, unit: string, low: number | undefined, high: number | undefined, pts: Array<[string, InstitutionRef, number]>): LabSeries {
  return {
    code: { system: LOINC, code, display },
    unit,
    referenceRange: { low, high },
    points: pts.map(([date, institution, value]) => ({ ref: ref('Observation'), institution, date, value })),
  };
}

const H = HOSPITAL, C = COMMUNITY, T = TOWNSHIP;

// Identifiers below are given whole on purpose: the viewer must mask whatever reaches it unmasked.

export const WANG_JIANGUO: RecordSummary = {
  demographics: {
    personId: 'p-100231',
    name: '王建国',
    sex: 'male',
    birthDate: '1958-03-14',
    residentIdMasked: '330523195803141236',
    healthCardMasked: 'E33052300018827461',
    phoneMasked: '13867254418',
    address: '浙江省湖州市安吉县递铺街道胜利西路 128 号 3 幢 402 室',
    division: '浙江省湖州市安吉县',
    sources: {
      name: { institution: H, updated: '2026-10-09T08:12:00+08:00' },
      sex: { institution: H, updated: '2026-10-09T08:12:00+08:00' },
      birthDate: { institution: H, updated: '2026-10-09T08:12:00+08:00' },
      residentId: { institution: H, updated: '2026-10-09T08:12:00+08:00' },
      healthCard: { institution: C, updated: '2026-09-02T09:30:00+08:00' },
      phone: { institution: C, updated: '2026-09-02T09:30:00+08:00' },
      address: { institution: T, updated: '2026-05-18T10:05:00+08:00' },
    },
    links: [
      { institution: H, mrn: 'ZY0023817', patientId: 'pt-h-23817' },
      { institution: C, mrn: 'DP-2018-00412', patientId: 'pt-c-412' },
      { institution: T, mrn: 'XF00091236', patientId: 'pt-t-91236' },
    ],
  },
  problems: [
    { ref: ref('Condition'), institution: C, date: '2014-06-11', code: { system: ICD10, code: 'I10', display: '原发性高血压' }, clinicalStatus: 'active', chronic: true },
    { ref: ref('Condition'), institution: H, date: '2019-09-23', code: { system: ICD10, code: 'E11.9', display: '2型糖尿病，不伴有并发症' }, clinicalStatus: 'active', chronic: true },
    { ref: ref('Condition'), institution: H, date: '2026-10-05', code: { system: ICD10, code: 'I25.103', display: '冠状动脉粥样硬化性心脏病' }, clinicalStatus: 'active' },
    { ref: ref('Condition'), institution: T, date: '2021-03-02', code: { system: ICD10, code: 'E78.5', display: '高脂血症' }, clinicalStatus: 'active' },
    { ref: ref('Condition'), institution: T, date: '2023-12-18', code: { system: ICD10, code: 'J18.9', display: '肺炎' }, clinicalStatus: 'resolved' },
  ],
  allergies: [
    { ref: ref('AllergyIntolerance'), institution: H, date: '2019-09-23', substance: { system: 'local', code: 'PCN', display: '青霉素类' }, criticality: 'high', reaction: '皮疹、呼吸困难' },
  ],
  medications: [
    { ref: ref('MedicationRequest'), institution: H, date: '2026-10-09', medication: { system: 'local', code: 'A01', display: '阿司匹林肠溶片 100mg' }, dosage: '100 mg 口服 每日一次', status: 'active' },
    { ref: ref('MedicationRequest'), institution: H, date: '2026-10-09', medication: { system: 'local', code: 'A02', display: '阿托伐他汀钙片 20mg' }, dosage: '20 mg 口服 每晚一次', status: 'active' },
    { ref: ref('MedicationRequest'), institution: C, date: '2026-11-03', medication: { system: 'local', code: 'A03', display: '苯磺酸氨氯地平片 5mg' }, dosage: '5 mg 口服 每日一次', status: 'active' },
    { ref: ref('MedicationRequest'), institution: C, date: '2026-11-03', medication: { system: 'local', code: 'A04', display: '盐酸二甲双胍缓释片 0.5g' }, dosage: '0.5 g 口服 每日两次', status: 'active' },
    { ref: ref('MedicationRequest'), institution: H, date: '2026-10-09', medication: { system: 'local', code: 'A05', display: '单硝酸异山梨酯缓释片 40mg' }, dosage: '40 mg 口服 每日一次', status: 'active' },
    { ref: ref('MedicationRequest'), institution: T, date: '2023-12-18', medication: { system: 'local', code: 'A06', display: '头孢呋辛酯片 0.25g' }, dosage: '0.25 g 口服 每日两次', status: 'completed', end: '2023-12-25' },
    { ref: ref('MedicationRequest'), institution: C, date: '2024-02-06', medication: { system: 'local', code: 'A07', display: '卡托普利片 25mg' }, dosage: '25 mg 口服 每日两次', status: 'stopped', end: '2024-08-10' },
  ],
  encounters: [
    enc('2026-11-03T09:20:00+08:00', C, 'outpatient', '全科', 'I10', '原发性高血压', '陈丽华'),
    enc('2026-10-05T21:47:00+08:00', H, 'inpatient', '心血管内科', 'I25.103', '冠状动脉粥样硬化性心脏病', '周志明', '2026-10-09T10:00:00+08:00'),
    enc('2026-10-05T20:15:00+08:00', H, 'emergency', '急诊科', 'R07.4', '胸痛', '吴海涛'),
    enc('2026-08-12T08:40:00+08:00', C, 'outpatient', '全科', 'E11.9', '2型糖尿病', '陈丽华'),
    enc('2026-05-18T10:05:00+08:00', T, 'outpatient', '内科', 'I10', '原发性高血压', '沈国平'),
    enc('2026-02-09T09:10:00+08:00', C, 'outpatient', '全科', 'E11.9', '2型糖尿病', '陈丽华'),
    enc('2025-11-20T14:30:00+08:00', H, 'outpatient', '内分泌科', 'E11.9', '2型糖尿病', '林晓燕'),
    enc('2025-08-15T09:00:00+08:00', C, 'outpatient', '全科', 'I10', '原发性高血压', '陈丽华'),
    enc('2025-04-22T10:20:00+08:00', T, 'outpatient', '内科', 'E78.5', '高脂血症', '沈国平'),
    enc('2024-12-03T15:10:00+08:00', H, 'outpatient', '内分泌科', 'E11.9', '2型糖尿病', '林晓燕'),
    enc('2024-06-14T08:50:00+08:00', C, 'outpatient', '全科', 'I10', '原发性高血压', '陈丽华'),
    enc('2023-12-18T16:40:00+08:00', T, 'outpatient', '内科', 'J18.9', '肺炎', '沈国平'),
  ],
  labs: [
    series('4548-4', '糖化血红蛋白', '%', 4, 6, [['2024-12-03', H, 7.8], ['2025-04-22', T, 7.5], ['2025-11-20', H, 7.1], ['2026-02-09', C, 6.9], ['2026-05-18', T, 7.3], ['2026-08-12', C, 6.8], ['2026-10-06', H, 7.0]]),
    series('1558-6', '空腹血糖', 'mmol/L', 3.9, 6.1, [['2024-06-14', C, 8.4], ['2024-12-03', H, 8.9], ['2025-04-22', T, 7.6], ['2025-08-15', C, 7.9], ['2025-11-20', H, 7.2], ['2026-02-09', C, 7.4], ['2026-05-18', T, 7.8], ['2026-08-12', C, 6.9], ['2026-10-06', H, 7.6], ['2026-11-03', C, 7.1]]),
    series('18262-6', '低密度脂蛋白胆固醇', 'mmol/L', undefined, 3.4, [['2024-12-03', H, 3.92], ['2025-04-22', T, 4.11], ['2025-11-20', H, 3.65], ['2026-05-18', T, 3.28], ['2026-10-06', H, 2.74]]),
    series('14682-9', '肌酐', 'umol/L', 57, 111, [['2024-12-03', H, 86], ['2025-11-20', H, 92], ['2026-05-18', T, 97], ['2026-10-06', H, 104], ['2026-10-08', H, 98]]),
    series('2823-3', '钾', 'mmol/L', 3.5, 5.3, [['2025-11-20', H, 4.2], ['2026-05-18', T, 4.5], ['2026-10-06', H, 3.4], ['2026-10-08', H, 3.9]]),
    series('718-7', '血红蛋白', 'g/L', 130, 175, [['2023-12-18', T, 128], ['2024-12-03', H, 141], ['2025-11-20', H, 138], ['2026-10-06', H, 135]]),
    series('10839-9', '肌钙蛋白I', 'ug/L', undefined, 0.04, [['2026-10-05', H, 0.012], ['2026-10-06', H, 0.018]]),
  ],
  exams: [
    { ref: ref('DiagnosticReport'), institution: H, date: '2026-10-07T10:30:00+08:00', modality: 'XA', title: '冠状动脉造影', findings: '左主干未见明显狭窄；前降支近中段弥漫性病变，最重处狭窄约 70%；回旋支中段狭窄约 40%；右冠状动脉近段狭窄约 50%。TIMI 血流 3 级。', conclusion: '冠状动脉粥样硬化性心脏病，单支血管临界病变，建议强化药物治疗，择期评估血运重建。' },
    { ref: ref('DiagnosticReport'), institution: H, date: '2026-10-05T20:40:00+08:00', modality: 'ECG', title: '十二导联心电图', findings: '窦性心律，心率 82 次/分；V4–V6 导联 ST 段水平型压低约 0.1 mV，T 波低平。', conclusion: '窦性心律；ST-T 改变（前侧壁）。' },
    { ref: ref('DiagnosticReport'), institution: T, date: '2026-05-18T11:00:00+08:00', modality: 'US', title: '颈部血管彩色多普勒超声', findings: '双侧颈总动脉内中膜增厚，右侧颈动脉分叉处见 8.2×2.1 mm 混合回声斑块，管腔未见明显狭窄。', conclusion: '双侧颈动脉内中膜增厚；右侧颈动脉斑块形成。' },
    { ref: ref('DiagnosticReport'), institution: T, date: '2023-12-18T17:10:00+08:00', modality: 'DR', title: '胸部正位片', findings: '右下肺野见斑片状模糊影，边缘不清；心影大小形态正常；双侧膈面光整，肋膈角锐利。', conclusion: '右下肺炎症，建议治疗后复查。' },
    { ref: ref('DiagnosticReport'), institution: H, date: '2024-12-03T16:00:00+08:00', modality: 'OP', title: '眼底照相', findings: '双眼视盘边界清，动静脉比约 1:2，未见出血及渗出。', conclusion: '双眼高血压性视网膜病变 I 级；未见糖尿病视网膜病变。' },
  ],
  immunizations: [
    { ref: ref('Immunization'), institution: C, date: '2026-10-20', vaccine: { system: 'local', code: 'FLU', display: '流感病毒裂解疫苗（四价）' }, doseNumber: 1, lotNumber: '202608A117' },
    { ref: ref('Immunization'), institution: C, date: '2025-10-16', vaccine: { system: 'local', code: 'FLU', display: '流感病毒裂解疫苗（四价）' }, doseNumber: 1, lotNumber: '202507B052' },
    { ref: ref('Immunization'), institution: T, date: '2024-04-09', vaccine: { system: 'local', code: 'PPV23', display: '23价肺炎球菌多糖疫苗' }, doseNumber: 1, lotNumber: 'P2024011' },
    { ref: ref('Immunization'), institution: C, date: '2021-05-12', vaccine: { system: 'local', code: 'COV', display: '新冠病毒灭活疫苗（Vero细胞）' }, doseNumber: 2, lotNumber: '202104D2183' },
  ],
  followUps: [
    { ref: ref('Encounter'), institution: C, date: '2026-11-03', programme: '高血压', method: 'clinic', assessment: 'controlled', note: '血压 132/84 mmHg，心率 72 次/分', nextDue: '2027-02-03', practitioner: '陈丽华' },
    { ref: ref('Encounter'), institution: C, date: '2026-11-03', programme: '2型糖尿病', method: 'clinic', assessment: 'uncontrolled', note: '空腹血糖 7.1 mmol/L，建议饮食控制并复查糖化', nextDue: '2026-12-03', practitioner: '陈丽华' },
    { ref: ref('Encounter'), institution: C, date: '2026-08-12', programme: '2型糖尿病', method: 'phone', assessment: 'uncontrolled', note: '自述偶有口干，未规律监测血糖', nextDue: '2026-11-12', practitioner: '陈丽华' },
    { ref: ref('Encounter'), institution: T, date: '2026-05-18', programme: '高血压', method: 'home', assessment: 'controlled', note: '血压 136/86 mmHg', nextDue: '2026-08-18', practitioner: '沈国平' },
  ],
  access: { basis: 'care-relationship', auditEventId: 'ae-fx-1' },
  generated: '2026-11-22T09:15:00+08:00',
};

export const PATIENTS: PatientHit[] = [
  { personId: 'p-100231', name: '王建国', sex: 'male', birthDate: '1958-03-14', residentIdMasked: '330523195803141236', healthCardMasked: 'E33052300018827461', phoneMasked: '13867254418', institutions: [{ ...H, lastSeen: '2026-10-09' }, { ...C, lastSeen: '2026-11-03' }, { ...T, lastSeen: '2026-05-18' }] },
  { personId: 'p-100877', name: '王建国', sex: 'male', birthDate: '1971-09-02', residentIdMasked: '330523197109025517', phoneMasked: '15957218803', institutions: [{ ...TIANHUANGPING, lastSeen: '2026-07-21' }] },
  { personId: 'p-101544', name: '王建英', sex: 'female', birthDate: '1963-12-27', residentIdMasked: '33052319631227402X', healthCardMasked: 'E33052300020114387', phoneMasked: '13706821945', institutions: [{ ...C, lastSeen: '2026-09-30' }, { ...TCM, lastSeen: '2025-12-02' }] },
  { personId: 'p-102019', name: '汪建国', sex: 'male', birthDate: '1958-04-03', residentIdMasked: '330523195804030334', phoneMasked: '13587190062', institutions: [{ ...T, lastSeen: '2026-06-11' }] },
  { personId: 'p-102388', name: '王剑国', sex: 'male', birthDate: '1985-01-19', residentIdMasked: '330523198501196617', healthCardMasked: 'E33052300031209954', phoneMasked: '18857206321', institutions: [{ ...H, lastSeen: '2026-03-14' }, { ...TCM, lastSeen: '2026-01-08' }] },
];

/** The patient with no care relationship to the demo clinician's institution: opening them answers 403. */
export const NO_RELATIONSHIP_PERSON = 'p-100877';

const CHANNEL_BASE = { fhir: 5200, hl7v2: 3100, csv: 1400 };
function wave(day: number, base: number, phase: number): number {
  const weekday = (day + 2) % 7;
  const weekend = weekday >= 5 ? 0.45 : 1;
  return Math.round(base * weekend * (1 + 0.12 * Math.sin(day * 0.9 + phase)));
}

export const OVERVIEW: RegionOverview = {
  generated: '2026-11-22T09:15:00+08:00',
  totals: { institutions: 6, persons: 486_213, resources: 21_674_905, quarantined: 137 },
  institutions: [
    { institution: H, kind: 'hospital', received: { fhir: 18_422, hl7v2: 16_903, csv: 0 }, quarantined: 12, pending: 0, lastReceived: '2026-11-22T09:14:31+08:00' },
    { institution: TCM, kind: 'hospital', received: { fhir: 0, hl7v2: 9_871, csv: 1_204 }, quarantined: 58, pending: 214, lastReceived: '2026-11-22T09:02:10+08:00' },
    { institution: C, kind: 'community', received: { fhir: 7_316, hl7v2: 0, csv: 2_087 }, quarantined: 9, pending: 0, lastReceived: '2026-11-22T08:57:44+08:00' },
    { institution: T, kind: 'township', received: { fhir: 0, hl7v2: 0, csv: 4_512 }, quarantined: 41, pending: 0, lastReceived: '2026-11-21T23:30:05+08:00' },
    { institution: TIANHUANGPING, kind: 'township', received: { fhir: 0, hl7v2: 0, csv: 1_896 }, quarantined: 17, pending: 0, lastReceived: '2026-11-19T23:30:12+08:00' },
    { institution: CDC, kind: 'public-health', received: { fhir: 3_058, hl7v2: 0, csv: 0 }, quarantined: 0, pending: 0, lastReceived: '2026-11-22T07:45:00+08:00' },
  ],
  daily: Array.from({ length: 14 }, (_, i) => {
    const d = new Date(Date.UTC(2026, 10, 9 + i));
    return { day: d.toISOString().slice(0, 10), fhir: wave(i, CHANNEL_BASE.fhir, 0), hl7v2: wave(i, CHANNEL_BASE.hl7v2, 1.3), csv: wave(i, CHANNEL_BASE.csv, 2.1) };
  }),
};

function audit(id: string, recorded: string, who: string, userId: string, role: string, location: string, patient: PatientHit, purpose: string, outcome: '0' | '4', btg = false): AuditEvent {
  return {
    resourceType: 'AuditEvent',
    id,
    meta: btg ? { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'BTG' }] } : undefined,
    type: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110110', display: 'Patient Record' },
    action: 'R',
    recorded,
    outcome,
    purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: purpose }] }],
    agent: [{ requestor: true, who: { display: who, identifier: { value: userId } }, role: [{ coding: [{ code: role }] }], location: { display: location } }],
    source: { observer: { display: 'healthbrain' } },
    entity: [{ what: { reference: `Patient/${patient.personId}`, display: patient.name } }],
  };
}

const [P1, P2, P3] = PATIENTS as [PatientHit, PatientHit, PatientHit];
export const AUDIT_EVENTS: AuditEvent[] = [
  audit('ae-15', '2026-11-22T01:12:09Z', '周志明', 'u-h-0412', 'clinician', H.name, P1, 'TREAT', '0'),
  audit('ae-14', '2026-11-21T14:03:51Z', '吴海涛', 'u-h-0388', 'clinician', H.name, P2, 'ETREAT', '0', true),
  audit('ae-13', '2026-11-21T14:02:40Z', '吴海涛', 'u-h-0388', 'clinician', H.name, P2, 'TREAT', '4'),
  audit('ae-12', '2026-11-21T06:45:12Z', '陈丽华', 'u-c-0021', 'clinician', C.name, P1, 'TREAT', '0'),
  audit('ae-11', '2026-11-20T08:31:00Z', '陈丽华', 'u-c-0021', 'clinician', C.name, P3, 'TREAT', '0'),
  audit('ae-10', '2026-11-19T03:22:18Z', '沈国平', 'u-t-0107', 'clinician', T.name, P1, 'TREAT', '0'),
  audit('ae-09', '2026-11-18T09:10:44Z', '林晓燕', 'u-h-0219', 'clinician', H.name, P1, 'TREAT', '0'),
  audit('ae-08', '2026-11-17T02:55:30Z', '赵敏', 'u-z-0033', 'clinician', TCM.name, P1, 'TREAT', '4'),
  audit('ae-07', '2026-11-16T07:40:02Z', '王建国', 'u-r-100231', 'resident', '—', P1, 'PATRQT', '0'),
  audit('ae-06', '2026-11-15T01:18:27Z', '周志明', 'u-h-0412', 'clinician', H.name, P1, 'TREAT', '0'),
  audit('ae-05', '2026-11-14T05:05:05Z', '许文静', 'u-op-0002', 'operator', '区域平台', P3, 'HOPERAT', '0'),
  audit('ae-04', '2026-11-12T11:49:36Z', '吴海涛', 'u-h-0388', 'clinician', H.name, P1, 'ETREAT', '0', true),
];
