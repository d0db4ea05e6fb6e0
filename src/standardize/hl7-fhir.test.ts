import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition, DiagnosticReport, Encounter, Immunization, MedicationRequest, Observation, Patient, Resource, ServiceRequest } from '@medplum/fhirtypes';
import type { Db } from '../store/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import type { StandardizeResult, UnitInput } from '../ingest/index.ts';
import { SYSTEMS } from '../terminology/index.ts';
import { createStandardizer, openStandardization, type StandardizeServices } from './index.ts';
import { asLanded, fhirInput, hl7Input, r4Errors } from './test-support.ts';

let db: Db;
let services: StandardizeServices;
const merges: Array<{ survivingIdentifier: string; priorIdentifier: string }> = [];
const matched: string[] = [];
const INST = 'H330523-HL7';

before(async () => {
  db = await openTestDb();
  services = await openStandardization(db, {
    mergePatients: async (_tx, m) => void merges.push(m),
    matchPatient: async (_tx, p) => void matched.push(p.id!),
  });
});
after(() => db.close());

async function run(input: UnitInput): Promise<StandardizeResult> {
  return db.transaction((tx) => createStandardizer(services)(asLanded(input), tx));
}
function ok(r: StandardizeResult): Resource[] {
  assert.ok('resources' in r, JSON.stringify(r).slice(0, 400));
  for (const res of r.resources) assert.deepEqual(r4Errors(res), [], `${res.resourceType} is valid R4`);
  return r.resources;
}
const codes = (r: StandardizeResult) => ('quarantine' in r ? r.quarantine.map((q) => q.code) : ['(standardized)']);
/** A segment with fields at their standard numbers: seg('PV1', {2: 'I', 19: 'V1'}). */
const seg = (name: string, fields: Record<number, string>) => {
  const n = Math.max(...Object.keys(fields).map(Number));
  return [name, ...Array.from({ length: n }, (_, i) => fields[i + 1] ?? '')].join('|');
};
const MSH = (type: string, id: string) => `MSH|^~\\&|HIS|${INST}|HB|HB|20240305101500||${type}|${id}|P|2.4`;

test('ADT^A01 (LF-separated, with a Z-segment) gives a Patient, an Encounter and a Condition per DG1, and calls the EMPI', async () => {
  const msg = [
    MSH('ADT^A01^ADT_A01', 'A1'), 'EVN|A01|20240305101500',
    'PID|1||ZY0001^^^H^MR~330523195603080013^^^^ID||王^小明||19560308|M|||递铺街道^^安吉县^浙江省^313300^^^^330523001002||13905721234',
    seg('PV1', { 1: '1', 2: 'I', 3: '0301^^^^^^^^心内科', 7: 'D01^李^医生', 19: 'V2024001', 44: '20240305100000' }),
    'DG1|1||I10^高血压病^L||20240305|A', 'DG1|2||E11.900^2型糖尿病^L||20240305|W', 'ZXT|custom|stuff',
  ].join('\n');
  const out = ok(await run(hl7Input(INST, [msg])));
  const p = out.find((r) => r.resourceType === 'Patient') as Patient;
  assert.deepEqual([p.name?.[0].family, p.name?.[0].given?.[0], p.gender, p.birthDate], ['王', '小明', 'male', '1956-03-08']);
  const e = out.find((r) => r.resourceType === 'Encounter') as Encounter;
  assert.deepEqual([e.class.code, e.subject?.reference, e.period?.start], ['IMP', `Patient/${p.id}`, '2024-03-05T10:00:00+08:00']);
  const dx = out.filter((r) => r.resourceType === 'Condition') as Condition[];
  assert.deepEqual(dx.map((c) => c.code?.coding?.[0].code), ['I10', 'E11.9']);
  assert.equal(dx[0].encounter?.reference, `Encounter/${e.id}`);
  assert.ok(matched.includes(p.id!));
});

test('ORU^R01 gives Observations in canonical units and a DiagnosticReport listing them', async () => {
  const msg = [
    MSH('ORU^R01', 'R1'), 'PID|1||ZY0001^^^H^MR', seg('PV1', { 1: '1', 2: 'O', 19: 'V2024002' }),
    seg('OBR', { 1: '1', 2: 'P1', 3: 'F1', 4: 'CBC^血常规^L', 7: '20240305080000', 22: '20240305093000' }),
    'OBX|1|NM|WBC^白细胞^L||6.5|×10^9/L|3.5-9.5|N|||F', 'OBX|2|NM|HGB^血红蛋白^L||13.5|g/dL|13-17.5|N|||F',
    'OBX|3|NM|2345-7^Glucose^LN||99|mg/dL|70-110|N|||F',
  ].join('\r');
  const out = ok(await run(hl7Input(INST, [msg])));
  const obs = out.filter((r) => r.resourceType === 'Observation') as Observation[];
  assert.deepEqual(obs.map((o) => [o.code.coding?.[0].code, o.valueQuantity?.code]), [['6690-2', '10*9/L'], ['718-7', 'g/L'], ['14749-6', 'mmol/L']]);
  assert.deepEqual(obs.slice(0, 2).map((o) => o.valueQuantity?.value), [6.5, 135]);
  assert.ok(Math.abs(obs[2].valueQuantity!.value! - 99 / 18.0156) < 0.001);
  const report = out.find((r) => r.resourceType === 'DiagnosticReport') as DiagnosticReport;
  assert.equal(report.code.coding?.[0].code, '58410-2');
  assert.equal(report.result?.length, 3);
});

test('ORU^R01 for an MRN the institution never registered is held as unknown-patient', async () => {
  const msg = [MSH('ORU^R01', 'R2'), 'PID|1||NOBODY^^^H^MR', 'OBR|1|P2|F2|CBC^血常规^L', 'OBX|1|NM|WBC^白细胞^L||6.5|10^9/L|||||F'].join('\r');
  assert.deepEqual(codes(await run(hl7Input(INST, [msg]))), ['unknown-patient']);
});

test('ORM^O01 gives a ServiceRequest for an OBR and a MedicationRequest (ATC) for an RXO', async () => {
  const msg = [
    MSH('ORM^O01', 'O1'), 'PID|1||ZY0001^^^H^MR', seg('PV1', { 1: '1', 2: 'O', 19: 'V2024002' }),
    seg('ORC', { 1: 'NW', 2: 'ORD1', 9: '20240305090000' }), 'OBR|1|ORD1||LIP^血脂^L',
    seg('ORC', { 1: 'NW', 2: 'ORD2', 9: '20240305090000' }), 'RXO|YP001^苯磺酸氨氯地平^L|5||mg',
  ].join('\r');
  const out = ok(await run(hl7Input(INST, [msg])));
  const sr = out.find((r) => r.resourceType === 'ServiceRequest') as ServiceRequest;
  assert.equal(sr.code?.coding?.[0].code, '24331-1');
  const mr = out.find((r) => r.resourceType === 'MedicationRequest') as MedicationRequest;
  assert.equal(mr.medicationCodeableConcept?.coding?.[0].code, 'C08CA01');
  assert.equal(mr.medicationCodeableConcept?.coding?.[0].system, SYSTEMS.atc);
});

test('ADT^A40 hands the merge to the EMPI and produces no resource', async () => {
  const msg = [MSH('ADT^A40', 'M1'), 'EVN|A40', 'PID|1||ZY0001^^^H^MR', 'MRG|ZY0999'].join('\r');
  assert.deepEqual(ok(await run(hl7Input(INST, [msg]))), []);
  assert.match(merges.at(-1)!.survivingIdentifier, /\|ZY0001$/);
  assert.match(merges.at(-1)!.priorIdentifier, /\|ZY0999$/);
});

test('quarantines an unsupported trigger, a non-HL7 payload and an ADT without PID', async () => {
  assert.deepEqual(codes(await run(hl7Input(INST, [MSH('ADT^A03', 'X1'), 'PID|1||ZY0001^^^H^MR']))), ['unsupported-message']);
  assert.deepEqual(codes(await run(hl7Input(INST, ['this is not hl7']))), ['unparseable']);
  assert.deepEqual(codes(await run(hl7Input(INST, [MSH('ADT^A04', 'X2'), 'EVN|A04']))), ['missing-required']);
});

const bundle = (entries: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });
const MRN_SYS = 'http://his.example.cn/mrn';

test('a FHIR transaction Bundle is recoded: local codings → standard first with the original kept, references re-pointed', async () => {
  const out = ok(await run(fhirInput('H-FHIR', bundle([
    { fullUrl: 'urn:uuid:p1', resource: { resourceType: 'Patient', identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: MRN_SYS, value: 'F001' }], name: [{ text: '欧阳娜娜' }], gender: 'female', birthDate: '1990-01-02' }, request: { method: 'PUT', url: `Patient?identifier=${MRN_SYS}|F001` } },
    { fullUrl: 'urn:uuid:e1', resource: { resourceType: 'Encounter', identifier: [{ value: 'E1' }], status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: 'urn:uuid:p1' }, period: { start: '2024-03-05T09:00:00+08:00' } }, request: { method: 'POST', url: 'Encounter' } },
    { fullUrl: 'urn:uuid:c1', resource: { resourceType: 'Condition', code: { coding: [{ system: 'http://his.example.cn/dx', code: 'J06.901', display: '上呼吸道感染' }] }, subject: { reference: 'urn:uuid:p1' }, encounter: { reference: 'urn:uuid:e1' } }, request: { method: 'POST', url: 'Condition' } },
    { fullUrl: 'urn:uuid:o1', resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://his.example.cn/lab', code: 'CR', display: '血肌酐' }] }, subject: { reference: 'urn:uuid:p1' }, valueQuantity: { value: 1.0, unit: 'mg/dL' } }, request: { method: 'POST', url: 'Observation' } },
    { fullUrl: 'urn:uuid:i1', resource: { resourceType: 'Immunization', status: 'completed', vaccineCode: { coding: [{ system: 'http://his.example.cn/vac', code: 'V01', display: '流感疫苗' }] }, patient: { reference: 'urn:uuid:p1' }, occurrenceDateTime: '2023-10-10' }, request: { method: 'POST', url: 'Immunization' } },
  ]))));
  const p = out.find((r) => r.resourceType === 'Patient') as Patient;
  assert.deepEqual([p.name?.[0].family, p.identifier?.[0].value], ['欧阳', 'F001']);
  const c = out.find((r) => r.resourceType === 'Condition') as Condition;
  assert.deepEqual(c.code?.coding?.map((x) => x.code), ['J06.9', 'J06.901']);
  assert.equal(c.subject.reference, `Patient/${p.id}`);
  const e = out.find((r) => r.resourceType === 'Encounter') as Encounter;
  assert.equal(c.encounter?.reference, `Encounter/${e.id}`);
  const o = out.find((r) => r.resourceType === 'Observation') as Observation;
  assert.deepEqual([o.code.coding?.[0].code, o.valueQuantity?.value, o.valueQuantity?.code], ['14682-9', 88.402, 'umol/L']);
  const i = out.find((r) => r.resourceType === 'Immunization') as Immunization;
  assert.deepEqual(i.vaccineCode.coding?.map((x) => x.code), ['FLU', '88', 'V01']);
});

test('a Bundle with an invalid resource is quarantined as invalid-resource, whole', async () => {
  const r = await run(fhirInput('H-FHIR', bundle([
    { fullUrl: 'urn:uuid:p2', resource: { resourceType: 'Patient', identifier: [{ system: MRN_SYS, value: 'F002' }], name: [{ text: '李四' }] } },
    { fullUrl: 'urn:uuid:e2', resource: { resourceType: 'Encounter', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:p2' }, period: { start: '2024/03/05 09:00' } } },
  ])));
  assert.deepEqual(codes(r), ['invalid-resource']);
  assert.deepEqual(codes(await run(fhirInput('H-FHIR', '{not json'))).length, 1);
});
