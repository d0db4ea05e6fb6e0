/**
 * Renders visits as FHIR R4 transaction Bundles (one JSON Bundle per line of feeds/<code>/bundles.ndjson), as the
 * institution's FHIR client would POST them: a conditional PUT of the Patient on its MRN, then Encounter,
 * Condition, DiagnosticReport + Observation (lab, with the local code and unit), imaging DiagnosticReport,
 * MedicationRequest, Procedure. The truth keys every entry by its fullUrl.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { DRUGS } from './catalog/drugs.ts';
import { EXAMS } from './catalog/exams.ts';
import { LAB_ITEMS, LAB_PANELS, VITALS } from './catalog/labs.ts';
import { PROCEDURES } from './catalog/vaccines.ts';
import { isoDay } from './dates.ts';
import type { Registration } from './errors.ts';
import { SYSTEMS, standardDx } from './local-codes.ts';
import type { VisitEvent } from './model.ts';
import type { TruthCode } from './output.ts';
import { isoTime, type RenderContext } from './render-context.ts';
import { displayValue, flagOf, localUnit } from './values.ts';

const GENDER = { '0': 'unknown', '1': 'male', '2': 'female' } as const;
const RESIDENT_ID = 'urn:oid:2.16.156.10011.1.1';

function patientResource(mrnSystem: string, reg: Registration): Resource {
  const identifier: object[] = [{ use: 'usual', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: mrnSystem, value: reg.mrn }];
  if (reg.idNumber) {
    identifier.push(reg.idType === '03'
      ? { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PPN' }] }, system: `urn:passport:${reg.nationality}`, value: reg.idNumber }
      : { use: 'official', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NNCHN' }] }, system: RESIDENT_ID, value: reg.idNumber });
  }
  const p: Record<string, unknown> = { resourceType: 'Patient', identifier, name: [{ text: reg.name }], gender: GENDER[reg.sex] };
  if (reg.birth !== undefined) p.birthDate = isoDay(reg.birth);
  if (reg.phone) p.telecom = [{ system: 'phone', value: reg.phone, use: 'mobile' }];
  if (reg.address) p.address = [{ text: reg.address, city: '湖州市', district: '安吉县', state: '浙江省', postalCode: '313300', country: 'CN' }];
  return p as unknown as Resource;
}

/** Renders one visit as one transaction Bundle line. */
export function renderVisitFhir(ctx: RenderContext, instIdx: number, reg: Registration, v: VisitEvent): void {
  const inst = ctx.inst(instIdx);
  const cat = ctx.cat(instIdx);
  const base = cat.localSystemBase;
  const file = `${inst.feedDir}/bundles.ndjson`;
  const t = ctx.transmit(v.day, v.minute + 1);
  const entries: BundleEntry[] = [];
  const truth: { url: string; kind: string; codes: TruthCode[]; extra?: object }[] = [];
  const at = isoTime(v.day, v.minute);
  const add = (resource: Resource, kind: string, codes: TruthCode[], request: BundleEntry['request'], extra?: object) => {
    const url = `urn:uuid:${ctx.uuid()}`;
    entries.push({ fullUrl: url, resource, request });
    truth.push({ url, kind, codes, extra });
    return url;
  };
  const patientUrl = add(patientResource(inst.mrnSystem, reg), 'Patient', [{ kind: 'sex', system: SYSTEMS.sex, code: reg.sex, local: GENDER[reg.sex] }], { method: 'PUT', url: `Patient?identifier=${inst.mrnSystem}|${reg.mrn}` });
  const subject = { reference: patientUrl };
  const dept = cat.dept.get(v.dept)!;
  const enc: Record<string, unknown> = {
    resourceType: 'Encounter', identifier: [{ system: `${base}/visit`, value: ctx.nextId('E', 6) }], status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: v.cls },
    type: [{ coding: [{ system: `${base}/department`, code: dept.code, display: dept.name }] }], subject,
    period: v.endDay !== undefined ? { start: at, end: isoTime(v.endDay, 600) } : { start: at, end: isoTime(v.day, v.minute + 20) },
    serviceProvider: { display: inst.name },
  };
  let encExtra: object | undefined = v.outbreak ? { outbreak: true } : undefined;
  if (t.malformed) {
    // Malformed: a buggy export drops the required status and writes a non-FHIR date.
    delete enc.status;
    enc.period = { start: `${isoDay(v.day).replace(/-/g, '/')} ${String(Math.floor(v.minute / 60)).padStart(2, '0')}:00` };
    encExtra = { ...encExtra, malformed: 'invalid-encounter' };
  }
  const encUrl = add(enc as unknown as Resource, 'Encounter', [], { method: 'POST', url: 'Encounter' }, encExtra);
  const encounter = { reference: encUrl };
  v.dx.forEach((k, i) => {
    const list = cat.dx.get(k)!;
    const local = list[(i + v.minute) % list.length];
    add({
      resourceType: 'Condition', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
      code: { coding: [{ system: `${base}/diagnosis`, code: local.code, display: local.name }], text: local.name }, subject, encounter, recordedDate: at,
    } as Resource, 'Condition', [{ kind: 'diagnosis', system: SYSTEMS.icd10, code: standardDx(k).code, local: local.code }], { method: 'POST', url: 'Condition' });
  });
  for (const lab of v.labs) {
    const lp = cat.panel.get(lab.panel)!;
    const results: { reference: string }[] = [];
    for (const r of lab.results) {
      const item = LAB_ITEMS[r.item];
      const lc = cat.lab.get(r.item)!;
      const [val, unit] = displayValue(inst, item, r.value as number);
      const obs: Record<string, unknown> = {
        resourceType: 'Observation', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
        code: { coding: [{ system: `${base}/lab`, code: lc.code, display: lc.name }], text: lc.name }, subject, encounter,
        effectiveDateTime: isoTime(lab.day, lab.minute), valueQuantity: { value: Number(val), unit, system: 'http://unitsofmeasure.org', code: localUnit(inst, item) },
        interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: flagOf(item, r.value as number) }] }],
      };
      results.push({ reference: add(obs as unknown as Resource, 'Observation', [{ kind: 'lab', system: SYSTEMS.loinc, code: item.loinc, local: lc.code, value: r.value, unit: item.unit }], { method: 'POST', url: 'Observation' }, lab.repeatOf ? { repeatOf: lab.repeatOf } : undefined) });
    }
    const panel = LAB_PANELS[lab.panel];
    add({
      resourceType: 'DiagnosticReport', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
      code: { coding: [{ system: `${base}/panel`, code: lp.code, display: lp.name }], text: panel.name }, subject, encounter,
      effectiveDateTime: isoTime(lab.day, lab.minute), issued: isoTime(lab.day, lab.minute + 90), result: results,
    } as Resource, 'DiagnosticReport', panel.loinc ? [{ kind: 'panel', system: SYSTEMS.loinc, code: panel.loinc, local: lp.code }] : [], { method: 'POST', url: 'DiagnosticReport' });
  }
  for (const x of v.exams) {
    const e = EXAMS[x.exam];
    const lc = cat.exam.get(x.exam)!;
    const [findings, impression] = e.reports[x.variant] ?? e.reports.normal;
    add({
      resourceType: 'DiagnosticReport', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'RAD' }] }],
      code: { coding: [{ system: `${base}/exam`, code: lc.code, display: lc.name }], text: lc.name }, subject, encounter,
      effectiveDateTime: isoTime(x.day, v.minute + 30), issued: isoTime(x.day, v.minute + 120), conclusion: impression,
      presentedForm: [{ contentType: 'text/plain;charset=utf-8', data: Buffer.from(`检查所见：${findings}\n检查结论：${impression}`).toString('base64'), title: `${lc.name}报告` }],
    } as Resource, 'DiagnosticReport', [{ kind: 'exam', system: SYSTEMS.loinc, code: e.loinc, local: lc.code, value: x.variant }], { method: 'POST', url: 'DiagnosticReport' });
  }
  if (v.anc) {
    const vit = [['gestation', v.anc.weeks], ['sbp', v.anc.sbp], ['dbp', v.anc.dbp], ['weight', v.anc.weight]] as const;
    for (const [k, val] of vit) {
      add({
        resourceType: 'Observation', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: SYSTEMS.loinc, code: VITALS[k].loinc, display: VITALS[k].name }] }, subject, encounter, effectiveDateTime: at,
        valueQuantity: { value: val, unit: VITALS[k].unit, system: 'http://unitsofmeasure.org', code: VITALS[k].unit },
      } as Resource, 'Observation', [{ kind: 'vital', system: SYSTEMS.loinc, code: VITALS[k].loinc, value: val, unit: VITALS[k].unit }], { method: 'POST', url: 'Observation' });
    }
  }
  for (const k of v.rx) {
    const d = DRUGS[k];
    const lc = cat.drug.get(k)!;
    add({
      resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, encounter, authoredOn: at,
      medicationCodeableConcept: { coding: [{ system: `${base}/drug`, code: lc.code, display: lc.name }], text: `${lc.name} ${d.strength}` },
      dosageInstruction: [{ text: `${d.dose}${d.doseUnit} ${d.frequency} ${d.route}`, route: { text: d.route }, doseAndRate: [{ doseQuantity: { value: d.dose, unit: d.doseUnit } }] }],
    } as Resource, 'MedicationRequest', [{ kind: 'drug', system: SYSTEMS.atc, code: d.atc, local: lc.code }], { method: 'POST', url: 'MedicationRequest' });
  }
  for (const k of v.procs) {
    const lc = cat.proc.get(k)!;
    add({
      resourceType: 'Procedure', status: 'completed', code: { coding: [{ system: `${base}/procedure`, code: lc.code, display: lc.name }], text: lc.name },
      subject, encounter, performedDateTime: isoTime(v.day + (v.cls === 'IMP' ? 1 : 0), 540),
    } as Resource, 'Procedure', [{ kind: 'procedure', system: SYSTEMS.icd9cm3, code: PROCEDURES[k].code, local: lc.code }], { method: 'POST', url: 'Procedure' });
  }
  const bundle: Bundle = { resourceType: 'Bundle', id: ctx.nextId('B', 7), type: 'transaction', timestamp: t.sentAt, entry: entries };
  const line = `${JSON.stringify(bundle)}\n`;
  for (let c = 0; c < t.copies; c++) ctx.out.write(file, line);
  for (const e of truth) {
    ctx.out.record(inst, {
      id: e.url, inst: inst.code, file, kind: e.kind, person: reg.personId, mrn: reg.mrn, sentAt: t.sentAt,
      ...(e.codes.length ? { codes: e.codes } : {}), ...(reg.errors.length && e.kind === 'Patient' ? { errors: reg.errors } : {}),
      ...(t.copies > 1 ? { copies: t.copies } : {}), ...(t.lateDays ? { lateDays: t.lateDays } : {}), ...(e.extra ?? {}),
    });
  }
}
