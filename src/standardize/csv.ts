import type { CodeableConcept, EpisodeOfCare } from '@medplum/fhirtypes';
import { parseCsvUnit, type CsvRow, type LandedUnit } from '../ingest/index.ts';
import { coreTable } from '../standards/core-tables.ts';
import { bphsSystem, SYSTEMS } from '../terminology/index.ts';
import { codedObservation, condition, diagnosticReport, encounter, encounterRef, immunization, medicationRequest, procedure, quantityObservation, type EncounterClass } from './clinical.ts';
import type { PatientRef, UnitContext } from './context.ts';
import { EXT } from './ids.ts';
import { buildPatient } from './patient.ts';
import { memberResults } from './report-members.ts';

/**
 * Core-table CSV rows (src/standards/core-tables.ts, one landed unit per row) → canonical FHIR R4. Choices for the
 * public-health records, which have no single FHIR resource:
 *  - 健康档案 (health_archive): the Patient (its demographics) + an EpisodeOfCare of type 健康档案 (archive number,
 *    creation date, responsible doctor as care manager) — an EpisodeOfCare is FHIR's "association between a patient
 *    and an organization over time", which an archive is.
 *  - 家庭医生签约 (family_doctor_contract): an EpisodeOfCare of type 家庭医生签约 with the contract period.
 *  - 慢病随访 (chronic_followup) and 体检 (physical_exam), 产前检查 (antenatal_care): an Encounter (class by follow-up
 *    method; type = the 基本公卫 service; reason = the disease) + one Observation per measurement (LOINC) + coded
 *    Observations for the classification (此次随访分类) and the next follow-up date — so indicators query them with
 *    the same code searches as any clinical data.
 */
export async function standardizeCsv(ctx: UnitContext): Promise<void> {
  let row: CsvRow;
  try {
    row = parsed.get(ctx.unit) ?? parseCsvUnit(ctx.unit);
  } catch (err) {
    ctx.fail(/unknown core table/.test(String(err)) ? 'unknown-table' : 'unparseable', err instanceof Error ? err.message : String(err));
    return;
  }
  const handler = HANDLERS[row.table];
  if (!handler) return void ctx.fail('unknown-table', `no standardization for core table ${row.table}`);
  // Required columns of the core-table dictionary, whichever the handler reads (a file may also lack the column).
  for (const col of coreTable(row.table)?.columns ?? []) {
    if (col.required && !row.values[col.key]?.trim()) ctx.fail('missing-required', `${col.header} (${col.key}) is empty`, `${row.table}.${col.key}`);
  }
  if (ctx.reasons.length) return;
  await handler(ctx, row.values, row);
}

/** Rows parsed ahead by `csvLookups` (the batch's read-ahead), read once: the standardizer reuses them. */
const parsed = new WeakMap<LandedUnit, CsvRow>();

/**
 * What standardizing this row will look up, read ahead for a whole batch: the local patient id of a clinical row, or
 * of a patient row (which registers it), and a lab row's report id. Nothing for a row that does not parse.
 */
export function csvLookups(unit: LandedUnit): { mrn?: string; reportId?: string; registers?: string } {
  let row: CsvRow;
  try {
    row = parseCsvUnit(unit);
  } catch {
    return {};
  }
  parsed.set(unit, row);
  if (row.table === 'patient') return { registers: row.values.patient_local_id?.trim() || undefined };
  if (!HANDLERS[row.table]) return {};
  return { mrn: row.values.patient_local_id?.trim() || undefined, reportId: row.table === 'lab_result' ? row.values.report_id?.trim() || undefined : undefined };
}

type Handler = (ctx: UnitContext, v: Record<string, string>, row: CsvRow) => Promise<void>;

const el = (table: string) => (col: string) => `${table}.${col}`;

async function withPatient(ctx: UnitContext, v: Record<string, string>, table: string): Promise<PatientRef | undefined> {
  return ctx.patient(v.patient_local_id, `${table}.patient_local_id`);
}

const VISIT_CLASS: Record<string, EncounterClass> = { '门诊': 'AMB', '急诊': 'EMER', '1': 'AMB', '2': 'EMER', O: 'AMB', E: 'EMER', '住院': 'IMP' };
const METHOD_CLASS: Record<string, EncounterClass> = { '1': 'AMB', '2': 'HH', '3': 'VR' };

const HANDLERS: Record<string, Handler> = {
  async patient(ctx, v) {
    const p = await buildPatient(ctx, {
      mrn: v.patient_local_id, name: v.name, sex: { code: v.sex_code }, birthDate: v.birth_date, idType: v.id_type, idNumber: v.id_number,
      phone: v.phone, address: v.address, divisionCode: v.division_code, nationality: v.nationality, element: (f) => `patient.${mapField(f)}`,
    });
    if (p) ctx.resources.push(p);
  },

  async outpatient_visit(ctx, v) {
    const e = el('outpatient_visit');
    const patient = await withPatient(ctx, v, 'outpatient_visit');
    const visitId = ctx.required(v.visit_id, e('visit_id'));
    const start = ctx.date(v.visit_time, e('visit_time'), { required: true, birthDate: patient?.birthDate });
    if (!patient || !visitId || !start) return;
    const cls = VISIT_CLASS[(v.visit_type ?? '').trim()] ?? 'AMB';
    const reason: CodeableConcept[] | undefined = v.chief_complaint?.trim() ? [{ text: v.chief_complaint.trim() }] : undefined;
    ctx.resources.push(encounter(ctx, { visitId, patient, cls, start, dept: { code: v.dept_code, name: v.dept_name }, reason, participant: v.doctor_name?.trim() }));
  },

  async inpatient_visit(ctx, v) {
    const e = el('inpatient_visit');
    const patient = await withPatient(ctx, v, 'inpatient_visit');
    const visitId = ctx.required(v.visit_id, e('visit_id'));
    const start = ctx.date(v.admit_time, e('admit_time'), { required: true, birthDate: patient?.birthDate });
    const end = ctx.date(v.discharge_time, e('discharge_time'), { birthDate: patient?.birthDate });
    if (start && end && end.ms < start.ms) ctx.fail('implausible-date', `discharge ${end.dateTime} is before admission ${start.dateTime}`, e('discharge_time'));
    if (!patient || !visitId || !start) return;
    const enc = encounter(ctx, { visitId, patient, cls: 'IMP', start, end, dept: { code: v.dept_code, name: v.dept_name } });
    if (v.discharge_disposition?.trim()) enc.hospitalization = { dischargeDisposition: { coding: [{ system: `${SYSTEMS.localPrefix}ws364/CV06.00.226`, code: v.discharge_disposition.trim() }] } };
    ctx.resources.push(enc);
  },

  async diagnosis(ctx, v) {
    const e = el('diagnosis');
    const patient = await withPatient(ctx, v, 'diagnosis');
    const recorded = ctx.date(v.diagnosis_time, e('diagnosis_time'), { required: true, birthDate: patient?.birthDate });
    const code = await ctx.code('diagnosis', { code: v.local_code, display: v.local_name }, e('local_code'));
    if (!patient || !recorded || !code) return;
    ctx.resources.push(condition(ctx, { key: v.record_id, patient, encounter: encounterRef(ctx, v.visit_id), code, recorded, principal: v.diagnosis_type?.trim() === '1' }));
  },

  async lab_result(ctx, v) {
    const e = el('lab_result');
    const patient = await withPatient(ctx, v, 'lab_result');
    const reportId = ctx.required(v.report_id, e('report_id'));
    const issued = ctx.date(v.report_time, e('report_time'), { required: true, birthDate: patient?.birthDate });
    const effective = ctx.date(v.specimen_time, e('specimen_time'), { birthDate: patient?.birthDate }) ?? issued;
    if (!patient || !reportId || !issued) return;
    const enc = encounterRef(ctx, v.visit_id);
    const obs = await quantityObservation(ctx, {
      key: v.record_id, patient, encounter: enc, local: { code: v.item_code, display: v.item_name }, value: v.value, unit: v.unit,
      effective, issued, referenceRange: v.reference_range, flag: v.abnormal_flag, element: e('item_code'),
    });
    if (!obs) return;
    ctx.resources.push(obs);
    // The report lists every item landed so far under its report id (rows of one panel arrive as separate units).
    const results = await memberResults(ctx, reportId, obs.id!);
    const panel = v.panel_code?.trim() || v.panel_name?.trim() ? await panelCode(ctx, v.panel_code, v.panel_name, e('panel_code')) : undefined;
    ctx.resources.push(diagnosticReport(ctx, {
      key: reportId, patient, encounter: enc, code: panel ?? { text: v.panel_name?.trim() || '检验报告' }, category: 'LAB', results, effective, issued,
    }));
  },

  async exam_report(ctx, v) {
    const e = el('exam_report');
    const patient = await withPatient(ctx, v, 'exam_report');
    const effective = ctx.date(v.exam_time, e('exam_time'), { required: true, birthDate: patient?.birthDate });
    const issued = ctx.date(v.report_time, e('report_time'), { required: true, birthDate: patient?.birthDate });
    const code = await ctx.code('exam', { code: v.exam_code, display: v.exam_name }, e('exam_code'));
    if (!patient || !effective || !issued || !code) return;
    ctx.resources.push(diagnosticReport(ctx, {
      key: v.record_id, patient, encounter: encounterRef(ctx, v.visit_id), code, category: 'RAD', effective, issued, conclusion: v.impression,
      findings: [v.body_site?.trim() && `部位：${v.body_site.trim()}`, v.findings?.trim()].filter(Boolean).join('\n'),
    }));
  },

  async prescription(ctx, v) {
    const e = el('prescription');
    const patient = await withPatient(ctx, v, 'prescription');
    const authored = ctx.date(v.order_time, e('order_time'), { required: true, birthDate: patient?.birthDate });
    if (!patient || !authored) return;
    const m = await medicationRequest(ctx, {
      key: v.record_id, patient, encounter: encounterRef(ctx, v.visit_id), drug: { code: v.drug_code, display: v.drug_name }, groupId: v.prescription_id,
      dose: v.dose, doseUnit: v.dose_unit, frequency: v.frequency, route: v.route, days: v.days, quantity: v.quantity, strength: v.strength, authored, element: e('drug_code'),
    });
    if (m) ctx.resources.push(m);
  },

  async procedure(ctx, v) {
    const e = el('procedure');
    const patient = await withPatient(ctx, v, 'procedure');
    const performed = ctx.date(v.procedure_time, e('procedure_time'), { required: true, birthDate: patient?.birthDate });
    if (!patient || !performed) return;
    const p = await procedure(ctx, { key: v.record_id, patient, encounter: encounterRef(ctx, v.visit_id), local: { code: v.procedure_code, display: v.procedure_name }, performed, operator: v.operator, element: e('procedure_code') });
    if (p) ctx.resources.push(p);
  },

  async immunization(ctx, v) {
    const e = el('immunization');
    const patient = await withPatient(ctx, v, 'immunization');
    const date = ctx.date(v.vaccination_date, e('vaccination_date'), { required: true, birthDate: patient?.birthDate });
    if (!patient || !date) return;
    const i = await immunization(ctx, { key: v.record_id, patient, local: { code: v.vaccine_code, display: v.vaccine_name }, date, dose: v.dose_number, lot: v.lot_number, site: v.site, element: e('vaccine_code') });
    if (i) ctx.resources.push(i);
  },

  async health_archive(ctx, v) {
    const e = el('health_archive');
    const p = await buildPatient(ctx, {
      mrn: v.patient_local_id, name: v.name, sex: { code: v.sex_code }, birthDate: v.birth_date, idNumber: v.id_number, phone: v.phone,
      address: v.address, divisionCode: v.division_code, element: (f) => `health_archive.${mapField(f)}`,
    });
    const archiveNo = ctx.required(v.archive_no, e('archive_no'));
    const created = ctx.date(v.created_date, e('created_date'), { required: true, birthDate: p?.birthDate });
    const contract = ctx.date(v.contract_date, e('contract_date'), { birthDate: p?.birthDate });
    if (!p || !archiveNo || !created) return;
    ctx.resources.push(p);
    const patient = { id: p.id!, reference: `Patient/${p.id}` };
    ctx.resources.push(episode(ctx, archiveNo, 'health-archive', '健康档案', patient, created.date, undefined, v.responsible_doctor));
    if (contract) ctx.resources.push(episode(ctx, `${archiveNo}/contract`, 'family-doctor-contract', '家庭医生签约', patient, contract.date, undefined, v.responsible_doctor));
  },

  async family_doctor_contract(ctx, v) {
    const e = el('family_doctor_contract');
    const patient = await withPatient(ctx, v, 'family_doctor_contract');
    const no = ctx.required(v.contract_no, e('contract_no'));
    const start = ctx.date(v.start_date, e('start_date'), { required: true, birthDate: patient?.birthDate });
    const end = ctx.date(v.end_date, e('end_date'), { allowFuture: true, birthDate: patient?.birthDate });
    if (!patient || !no || !start) return;
    const ep = episode(ctx, no, 'family-doctor-contract', '家庭医生签约', patient, start.date, end?.date, v.doctor);
    if (v.package?.trim()) ep.type!.push({ text: `服务包：${v.package.trim()}` });
    if (v.team_name?.trim()) ep.type!.push({ text: `签约团队：${v.team_name.trim()}` });
    ctx.resources.push(ep);
  },

  async chronic_followup(ctx, v) {
    const e = el('chronic_followup');
    const patient = await withPatient(ctx, v, 'chronic_followup');
    const date = ctx.date(v.followup_date, e('followup_date'), { required: true, birthDate: patient?.birthDate });
    const disease = (v.disease ?? '').trim();
    const program = disease === '1' ? { prog: 'hypertension', icd: 'I10' } : disease === '2' ? { prog: 'diabetes', icd: 'E11.9' } : undefined;
    if (!program) ctx.fail(disease ? 'unmapped-code' : 'missing-required', `随访病种 '${disease}' is not 1 (高血压) or 2 (糖尿病)`, e('disease'));
    const next = ctx.date(v.next_date, e('next_date'), { allowFuture: true, birthDate: patient?.birthDate });
    if (!patient || !date || !program) return;
    const cls = METHOD_CLASS[(v.followup_method ?? '').trim()] ?? 'AMB';
    const type: CodeableConcept[] = [bphs(ctx, 'followup-program', program.prog)];
    if (v.followup_method?.trim()) type.push(bphs(ctx, 'followup-method', v.followup_method.trim()));
    const reason = [{ coding: [{ system: SYSTEMS.icd10, code: program.icd, display: ctx.terminology.display(SYSTEMS.icd10, program.icd) }] }];
    const enc = encounter(ctx, { visitId: `followup/${v.record_id}`, patient, cls, start: date, type, reason, participant: v.doctor?.trim() });
    ctx.resources.push(enc);
    await measurements(ctx, v, patient, `followup/${v.record_id}`, date, e, [
      ['sbp', '8480-6'], ['dbp', '8462-4'], ['weight', '29463-7'], ['heart_rate', '8867-4'], ['fasting_glucose', '1558-6', v.glucose_unit?.trim() || 'mmol/L'],
    ]);
    const encRef = { reference: `Encounter/${enc.id}` };
    if (v.control_status?.trim()) {
      ctx.resources.push(codedObservation(ctx, {
        key: `${v.record_id}/control`, patient, encounter: encRef, effective: date, code: recordKind('followup-class', '此次随访分类'),
        value: { valueCodeableConcept: bphs(ctx, 'followup-class', v.control_status.trim()) },
      }));
    }
    if (next) {
      ctx.resources.push(codedObservation(ctx, { key: `${v.record_id}/next`, patient, encounter: encRef, effective: date, code: recordKind('next-followup-date', '下次随访日期'), value: { valueDateTime: next.date } }));
    }
  },

  async physical_exam(ctx, v) {
    const e = el('physical_exam');
    const patient = await withPatient(ctx, v, 'physical_exam');
    const date = ctx.date(v.exam_date, e('exam_date'), { required: true, birthDate: patient?.birthDate });
    if (!patient || !date) return;
    const reason = [{ coding: [{ system: SYSTEMS.icd10, code: 'Z00.0', display: ctx.terminology.display(SYSTEMS.icd10, 'Z00.0') }] }];
    const enc = encounter(ctx, { visitId: `checkup/${v.record_id}`, patient, cls: 'AMB', start: date, type: [{ text: '健康体检' }], reason });
    ctx.resources.push(enc);
    await measurements(ctx, v, patient, `checkup/${v.record_id}`, date, e, [
      ['height', '8302-2'], ['weight', '29463-7'], ['sbp', '8480-6'], ['dbp', '8462-4'], ['fasting_glucose', '1558-6', 'mmol/L'],
      ['total_cholesterol', '2093-3', 'mmol/L'], ['creatinine', '2160-0', 'umol/L'],
    ]);
    if (v.conclusion?.trim()) {
      ctx.resources.push(codedObservation(ctx, { key: `${v.record_id}/conclusion`, patient, encounter: { reference: `Encounter/${enc.id}` }, effective: date, code: recordKind('checkup-assessment', '健康评价'), value: { valueString: v.conclusion.trim() } }));
    }
  },

  async antenatal_care(ctx, v) {
    const e = el('antenatal_care');
    const patient = await withPatient(ctx, v, 'antenatal_care');
    const date = ctx.date(v.visit_date, e('visit_date'), { required: true, birthDate: patient?.birthDate });
    const edd = ctx.date(v.expected_delivery_date, e('expected_delivery_date'), { allowFuture: true, birthDate: patient?.birthDate });
    if (!patient || !date) return;
    const reason = [{ coding: [{ system: SYSTEMS.icd10, code: 'Z34.9', display: ctx.terminology.display(SYSTEMS.icd10, 'Z34.9') }] }];
    const enc = encounter(ctx, { visitId: `antenatal/${v.record_id}`, patient, cls: 'AMB', start: date, type: [{ text: '产前检查' }], reason });
    ctx.resources.push(enc);
    await measurements(ctx, v, patient, `antenatal/${v.record_id}`, date, e, [
      ['gestational_weeks', '49051-6', 'wk'], ['sbp', '8480-6'], ['dbp', '8462-4'], ['weight', '29463-7'], ['hemoglobin', '718-7', 'g/L'],
    ]);
    if (edd) {
      ctx.resources.push(codedObservation(ctx, {
        key: `${v.record_id}/edd`, patient, encounter: { reference: `Encounter/${enc.id}` }, effective: date, category: 'exam',
        code: { coding: [{ system: SYSTEMS.loinc, code: '11778-8', display: '预产期' }] }, value: { valueDateTime: edd.date },
      }));
    }
  },
};

/** One Observation per filled measurement column: [column, LOINC, unit as the dictionary documents it]. */
async function measurements(
  ctx: UnitContext, v: Record<string, string>, patient: PatientRef, encKey: string, date: import('./dates.ts').ParsedDate, e: (c: string) => string,
  cols: Array<[string, string, string?]>,
): Promise<void> {
  const enc = encounterRef(ctx, encKey);
  for (const [col, loinc, unit] of cols) {
    if (!v[col]?.trim()) continue;
    const o = await quantityObservation(ctx, { key: `${v.record_id}/${col}`, patient, encounter: enc, local: { loinc }, value: v[col], unit, effective: date, element: e(col) });
    if (o) ctx.resources.push(o);
  }
}

async function panelCode(ctx: UnitContext, code: string | undefined, name: string | undefined, element: string): Promise<CodeableConcept | undefined> {
  // A panel without a map is not a reason to hold its results: the report keeps the local panel coding + name.
  const r = await ctx.services.mapper.map(ctx.tx, { institutionId: ctx.institutionId, kind: 'panel', code: code?.trim() || undefined, display: name?.trim() || undefined });
  void element;
  const local = code?.trim() ? [{ system: r.status === 'unmapped' ? r.localSystem : `${SYSTEMS.localPrefix}${encodeURIComponent(ctx.institutionId)}/panel`, code: code.trim(), ...(name?.trim() ? { display: name.trim() } : {}) }] : [];
  if (r.status === 'mapped') return { coding: [r.coding, ...local], text: name?.trim() || r.coding.display };
  return { ...(local.length ? { coding: local } : {}), text: name?.trim() || code?.trim() };
}

function bphs(ctx: UnitContext, set: string, code: string): CodeableConcept {
  const display = ctx.terminology.display(bphsSystem(set), code);
  return { coding: [{ system: bphsSystem(set), code, ...(display ? { display } : {}) }], ...(display ? { text: display } : {}) };
}

function recordKind(code: string, display: string): CodeableConcept {
  return { coding: [{ system: EXT.recordKind, code, display }], text: display };
}

function episode(ctx: UnitContext, key: string, kind: string, display: string, patient: PatientRef, start: string, end: string | undefined, doctor: string | undefined): EpisodeOfCare {
  return {
    ...ctx.frame('EpisodeOfCare', kind, key),
    identifier: [{ system: `${ctx.mrnIdentifier('').system}/${kind}`, value: key }],
    status: end && end < ctx.now.toISOString().slice(0, 10) ? 'finished' : 'active',
    type: [{ coding: [{ system: EXT.recordKind, code: kind, display }], text: display }],
    patient: { reference: patient.reference },
    managingOrganization: ctx.org(),
    period: { start, ...(end ? { end } : {}) },
    ...(doctor?.trim() ? { careManager: { display: doctor.trim() } } : {}),
  };
}

function mapField(f: string): string {
  return ({ mrn: 'patient_local_id', name: 'name', birthDate: 'birth_date' } as Record<string, string>)[f] ?? f;
}
