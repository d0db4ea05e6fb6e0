/**
 * A small region for the record tests: four institutions, one person (张三) with records at three of them, another
 * (李四) at the fourth, written to the FHIR store as each institution would have sent them and linked by the EMPI.
 * Dates are relative to now, so the care-relationship window is exercised: 张三's visit at A is recent, at B two years old.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { TestPlatform } from '../api/testing.ts';
import { matchIncoming, mergePersons } from '../empi/index.ts';
import { residentIdCheckChar } from '../standards/index.ts';

const LOINC = 'http://loinc.org';
const ICD = 'http://hl7.org/fhir/sid/icd-10';
const BPHS = 'https://healthbrain.cn/fhir/CodeSystem/bphs-';

export interface Region {
  a: { id: string; name: string };
  b: { id: string; name: string };
  c: { id: string; name: string };
  d: { id: string; name: string };
  /** 张三 */
  person: string;
  keys: { a: string; b: string; c: string };
  residentId: string;
  phone: string;
  /** 李四 */
  other: string;
  otherKey: string;
}

function rid(birth: string, seq: string): string {
  const first = `330523${birth}${seq}`;
  return first + residentIdCheckChar(first);
}

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

export async function seedRegion(p: TestPlatform): Promise<Region> {
  const tag = Math.random().toString(36).slice(2, 7);
  const [a, b, c, d] = await Promise.all(['县人民医院', '县中医院', '递铺镇卫生院', '天荒坪镇卫生院'].map((n) => p.addInstitution(`${n}-${tag}`)));
  const inst = (x: { id: string }, name: string) => ({ id: x.id, name });
  const repo = p.deps.fhirServices.repo;
  const put = (institutionId: string, r: Resource) => repo.update({ institutionId }, r.resourceType, r.id!, r);
  const residentId = rid('19580312', '031');
  const phone = '13857201234';
  const keys = { a: `pa-${tag}`, b: `pb-${tag}`, c: `pc-${tag}` };
  const patient = (id: string, instId: string, mrn: string, r = residentId, name = '张三', tel = phone): Resource => ({
    resourceType: 'Patient', id,
    identifier: [{ system: `https://healthbrain.cn/fhir/sid/mrn/${instId}`, value: mrn }, { system: 'urn:oid:2.16.156.10011.1.3', value: r }],
    name: [{ text: name, family: name[0], given: [name.slice(1)] }], gender: 'male', birthDate: `${r.slice(6, 10)}-${r.slice(10, 12)}-${r.slice(12, 14)}`,
    telecom: [{ system: 'phone', value: tel }], address: [{ text: '浙江省湖州市安吉县递铺街道', state: '浙江省', city: '湖州市', district: '安吉县' }],
  });
  const subj = (k: string) => ({ reference: `Patient/${k}` });
  const enc = (id: string, k: string, start: string, cls = 'AMB', extra: Record<string, unknown> = {}): Resource => ({
    resourceType: 'Encounter', id, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: cls },
    subject: subj(k), period: { start }, serviceType: { text: '心内科' }, ...extra,
  } as Resource);
  const glucose = (id: string, k: string, date: string, code: string, value: number, unit: string): Resource => ({
    resourceType: 'Observation', id, status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { coding: [{ system: LOINC, code, display: '葡萄糖' }] }, subject: subj(k), effectiveDateTime: date,
    valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
  });
  const cond = (id: string, k: string, code: string, display: string, date: string, encId?: string): Resource => ({
    resourceType: 'Condition', id, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: ICD, code, display }] }, subject: subj(k), recordedDate: date, ...(encId ? { encounter: { reference: `Encounter/${encId}` } } : {}),
  });

  // 张三 at A (recent), B (two years ago), C (public health)
  await put(a.id, patient(keys.a, a.id, 'A-001'));
  await put(b.id, patient(keys.b, b.id, 'B-778'));
  await put(c.id, patient(keys.c, c.id, 'C-42'));
  await put(a.id, enc(`ea-${tag}`, keys.a, daysAgo(30)));
  await put(a.id, cond(`ca-${tag}`, keys.a, 'I10', '原发性高血压', daysAgo(30), `ea-${tag}`));
  await put(a.id, glucose(`ga-${tag}`, keys.a, daysAgo(30), '14749-6', 5.6, 'mmol/L'));
  await put(a.id, { resourceType: 'MedicationRequest', id: `ma-${tag}`, status: 'active', intent: 'order', subject: subj(keys.a), authoredOn: daysAgo(30),
    medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'C08CA01', display: '氨氯地平' }] }, dosageInstruction: [{ text: '5 mg 口服 每日一次' }] });
  await put(a.id, { resourceType: 'AllergyIntolerance', id: `al-${tag}`, patient: subj(keys.a), clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, recordedDate: daysAgo(30), criticality: 'high',
    code: { coding: [{ system: 'http://www.whocc.no/atc', code: 'J01CA04', display: '阿莫西林' }] }, reaction: [{ manifestation: [{ text: '皮疹' }] }] });
  await put(b.id, enc(`eb-${tag}`, keys.b, daysAgo(800), 'IMP', { period: { start: daysAgo(800), end: daysAgo(790) } }));
  await put(b.id, cond(`cb-${tag}`, keys.b, 'E11.9', '2型糖尿病', daysAgo(800), `eb-${tag}`));
  await put(b.id, glucose(`gb-${tag}`, keys.b, daysAgo(800), '2345-7', 126, 'mg/dL'));
  await put(b.id, { resourceType: 'DiagnosticReport', id: `rb-${tag}`, status: 'final', subject: subj(keys.b), effectiveDateTime: daysAgo(795),
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'RAD' }] }], code: { text: '胸部CT平扫' }, conclusion: '双肺未见明显异常',
    presentedForm: [{ contentType: 'text/plain; charset=utf-8', data: Buffer.from('双肺纹理清晰', 'utf8').toString('base64') }] });
  await put(c.id, glucose(`gc-${tag}`, keys.c, daysAgo(200), '14749-6', 110, 'mg/dL'));
  await put(c.id, { resourceType: 'Immunization', id: `ic-${tag}`, status: 'completed', patient: subj(keys.c), occurrenceDateTime: daysAgo(400),
    vaccineCode: { coding: [{ system: 'urn:oid:2.16.156.10011.2.3.3.22', code: '5301', display: '流感疫苗' }] }, protocolApplied: [{ doseNumberPositiveInt: 1 }] });
  await put(c.id, enc(`fc-${tag}`, keys.c, daysAgo(100), 'AMB', {
    type: [{ coding: [{ system: `${BPHS}followup-program`, code: 'hypertension', display: '高血压患者健康管理' }] }, { coding: [{ system: `${BPHS}followup-method`, code: '3' }] }],
  }));
  await put(c.id, { resourceType: 'Observation', id: `fo-${tag}`, status: 'final', subject: subj(keys.c), encounter: { reference: `Encounter/fc-${tag}` },
    code: { coding: [{ system: 'https://healthbrain.cn/fhir/CodeSystem/record-kind', code: 'followup-class' }] },
    valueCodeableConcept: { coding: [{ system: `${BPHS}followup-class`, code: '1' }] } });

  // 李四 at D
  const otherRid = rid('19700101', '052');
  const otherKey = `pd-${tag}`;
  await put(d.id, patient(otherKey, d.id, 'D-9', otherRid, '李四', '13900000000'));
  await put(d.id, cond(`cd-${tag}`, otherKey, 'J45.9', '哮喘', daysAgo(10)));

  const db = p.deps.db;
  const link = async (key: string, instId: string) => matchIncoming(db, { patient: (await repo.read('Patient', key)) as never, patientKey: key, institutionId: instId });
  const ma = await link(keys.a, a.id);
  for (const [k, i] of [[keys.b, b.id], [keys.c, c.id]] as const) {
    const m = await link(k, i);
    if (m.personId !== ma.personId) await mergePersons(db, ma.personId, m.personId);
  }
  const md = await link(otherKey, d.id);
  return {
    a: inst(a, `县人民医院-${tag}`), b: inst(b, `县中医院-${tag}`), c: inst(c, `递铺镇卫生院-${tag}`), d: inst(d, `天荒坪镇卫生院-${tag}`),
    person: ma.personId, keys, residentId, phone, other: md.personId, otherKey,
  };
}
