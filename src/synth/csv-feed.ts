/**
 * Renders care as batch core-table CSV rows (核心表, src/standards/core-tables.ts) in the institution's dialect:
 * column order, header language, date format, delimiter, line ending; the encoding is applied when the chunk is
 * written. One file per table: feeds/<code>/<table>.csv. The truth keys each row by `<inst>|<table>|<record_id>`.
 */
import { DRUGS } from './catalog/drugs.ts';
import { EXAMS } from './catalog/exams.ts';
import { LAB_ITEMS, LAB_PANELS } from './catalog/labs.ts';
import { PROCEDURES, VACCINES } from './catalog/vaccines.ts';
import type { CsvDialect, Institution } from './county-types.ts';
import { pad2, ymd } from './dates.ts';
import type { Registration } from './errors.ts';
import { SYSTEMS, standardDx } from './local-codes.ts';
import type { PublicHealthEvent, VisitEvent } from './model.ts';
import type { TruthCode, TruthRecord } from './output.ts';
import type { RenderContext } from './render-context.ts';
import { displayValue, flagOf, rangeText } from './values.ts';

export function fmtDate(d: CsvDialect, day: number | undefined): string {
  if (day === undefined) return '';
  const [y, m, dd] = ymd(day);
  return d.dateFormat === 'yyyyMMdd' ? `${y}${pad2(m)}${pad2(dd)}` : d.dateFormat === 'yyyy/M/d' ? `${y}/${m}/${dd}` : `${y}-${pad2(m)}-${pad2(dd)}`;
}

export function fmtDateTime(d: CsvDialect, day: number, minute: number): string {
  const hh = pad2(Math.floor(minute / 60) % 24);
  const mm = pad2(minute % 60);
  return d.dateFormat === 'yyyyMMdd' ? `${fmtDate(d, day)}${hh}${mm}00` : `${fmtDate(d, day)} ${hh}:${mm}:00`;
}

const SPECIAL = /[",\t|\r\n]/;
function escape(v: string, delim: string): string {
  // One regex pass; fields holding any delimiter character are quoted (harmless when it is not this dialect's).
  return SPECIAL.test(v) && (v.includes(delim) || v.includes('"') || v.includes('\n') || v.includes('\r')) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Writes one row (and its copies) and its truth record. */
function row(ctx: RenderContext, inst: Institution, table: string, values: Record<string, string>, reg: Registration, day: number, minute: number, codes: TruthCode[], extra: Partial<TruthRecord> = {}, withErrors = false): void {
  const d = inst.csv!;
  const cols = d.columnOrder[table];
  if (!cols) return;
  const t = ctx.transmit(day, minute);
  const recordId = ctx.nextId(`${table.slice(0, 2).toUpperCase()}`, 6);
  const file = `${inst.feedDir}/${table}.csv`;
  values.org_code = inst.code;
  values.record_id = recordId;
  values.patient_local_id = reg.mrn;
  let fields = cols.map((k) => escape(values[k] ?? '', d.delimiter));
  let malformed: string | undefined;
  if (t.malformed) {
    // A row cut short by the export (fewer fields than the header), as seen when a note contains a raw newline.
    fields = fields.slice(0, Math.max(2, Math.floor(fields.length / 2)));
    malformed = 'short-row';
  }
  const line = fields.join(d.delimiter) + (d.lineEnding === 'CRLF' ? '\r\n' : '\n');
  for (let c = 0; c < t.copies; c++) ctx.out.write(file, line);
  ctx.out.record(inst, {
    id: `${inst.code}|${table}|${recordId}`, inst: inst.code, file, kind: table, person: reg.personId, mrn: reg.mrn, sentAt: t.sentAt,
    ...(codes.length ? { codes } : {}), ...(withErrors && reg.errors.length ? { errors: reg.errors } : {}),
    ...(t.copies > 1 ? { copies: t.copies } : {}), ...(t.lateDays ? { lateDays: t.lateDays } : {}), ...(malformed ? { malformed } : {}), ...extra,
  });
}

/** The patient row of a new registration (患者基本信息). */
export function patientRow(ctx: RenderContext, instIdx: number, reg: Registration, day: number, minute: number): void {
  const inst = ctx.inst(instIdx);
  const d = inst.csv!;
  const cat = ctx.cat(instIdx);
  row(ctx, inst, 'patient', {
    name: reg.name, sex_code: reg.sex === '0' && inst.vendor !== '自研' ? '' : cat.sex[reg.sex], birth_date: fmtDate(d, reg.birth),
    id_type: reg.idType, id_number: reg.idNumber, phone: reg.phone, address: reg.address, division_code: reg.divisionCode,
    nationality: reg.nationality, updated_at: fmtDateTime(d, day, minute),
  }, reg, day, minute, [{ kind: 'sex', system: SYSTEMS.sex, code: reg.sex, local: cat.sex[reg.sex] }], {}, true);
}

/** The rows of one visit. */
export function renderVisitCsv(ctx: RenderContext, instIdx: number, reg: Registration, v: VisitEvent): void {
  const inst = ctx.inst(instIdx);
  const d = inst.csv!;
  const cat = ctx.cat(instIdx);
  const visitId = ctx.nextId('VS', 6);
  const dept = cat.dept.get(v.dept)!;
  const doctor = ['李医生', '王医生', '张医生', '陈医生', '刘医生'][ctx.rng.int(0, 4)];
  const when = fmtDateTime(d, v.day, v.minute);
  const base = { visit_id: visitId };
  if (v.cls === 'IMP') {
    row(ctx, inst, 'inpatient_visit', { ...base, admit_time: when, discharge_time: v.endDay !== undefined ? fmtDateTime(d, v.endDay, 600) : '', dept_code: dept.code, dept_name: dept.name, ward_bed: `${ctx.rng.int(1, 12)}-${ctx.rng.int(1, 40)}`, discharge_disposition: '1' }, reg, v.day, v.minute, []);
  } else {
    const complaint = v.dx[0] === 'influenza' ? '发热、咳嗽2天' : v.dx[0] === 'urti' ? '咽痛、流涕3天' : '';
    row(ctx, inst, 'outpatient_visit', { ...base, visit_time: when, visit_type: v.cls === 'EMER' ? '急诊' : '门诊', dept_code: dept.code, dept_name: dept.name, doctor_name: doctor, chief_complaint: complaint }, reg, v.day, v.minute, [], v.outbreak ? { outbreak: true } : {});
  }
  v.dx.forEach((k, i) => {
    const list = cat.dx.get(k)!;
    const local = list[(i + v.minute) % list.length];
    row(ctx, inst, 'diagnosis', { ...base, diagnosis_time: when, diagnosis_type: i === 0 ? '1' : '2', local_code: local.code, local_name: local.name }, reg, v.day, v.minute, [{ kind: 'diagnosis', system: SYSTEMS.icd10, code: standardDx(k).code, local: local.code }]);
  });
  for (const lab of v.labs) {
    const reportId = ctx.nextId('LR', 6);
    const lp = cat.panel.get(lab.panel)!;
    for (const r of lab.results) {
      const item = LAB_ITEMS[r.item];
      const lc = cat.lab.get(r.item)!;
      const [val, unit] = displayValue(inst, item, r.value as number);
      row(ctx, inst, 'lab_result', {
        ...base, report_id: reportId, panel_code: lp.code, panel_name: LAB_PANELS[lab.panel].name, item_code: lc.code, item_name: lc.name, value: val, unit,
        reference_range: rangeText(inst, item), abnormal_flag: flagOf(item, r.value as number), specimen_time: fmtDateTime(d, lab.day, lab.minute), report_time: fmtDateTime(d, lab.day, lab.minute + 90),
      }, reg, lab.day, lab.minute + 90, [{ kind: 'lab', system: SYSTEMS.loinc, code: item.loinc, local: lc.code, value: r.value, unit: item.unit }], lab.repeatOf ? { repeatOf: lab.repeatOf } : {});
    }
  }
  for (const x of v.exams) {
    const e = EXAMS[x.exam];
    const lc = cat.exam.get(x.exam)!;
    const [findings, impression] = e.reports[x.variant] ?? e.reports.normal;
    row(ctx, inst, 'exam_report', { ...base, exam_code: lc.code, exam_name: lc.name, body_site: e.site, findings, impression, exam_time: fmtDateTime(d, x.day, v.minute + 30), report_time: fmtDateTime(d, x.day, v.minute + 120) }, reg, x.day, v.minute + 120, [{ kind: 'exam', system: SYSTEMS.loinc, code: e.loinc, local: lc.code, value: x.variant }]);
  }
  if (v.rx.length) {
    const rxId = ctx.nextId('CF', 6);
    for (const k of v.rx) {
      const dr = DRUGS[k];
      const lc = cat.drug.get(k)!;
      const days = v.dx.some((x) => x in { hypertension: 1, diabetes: 1, dyslipidaemia: 1, chd: 1, stroke: 1, copd: 1 }) ? 28 : ctx.rng.int(3, 7);
      row(ctx, inst, 'prescription', { ...base, prescription_id: rxId, drug_code: lc.code, drug_name: lc.name, strength: dr.strength, dose: String(dr.dose), dose_unit: dr.doseUnit, frequency: dr.frequency, route: dr.route, days: String(days), quantity: String(ctx.rng.int(1, 3)), order_time: when }, reg, v.day, v.minute, [{ kind: 'drug', system: SYSTEMS.atc, code: dr.atc, local: lc.code }]);
    }
  }
  for (const k of v.procs) {
    const lc = cat.proc.get(k)!;
    row(ctx, inst, 'procedure', { ...base, procedure_code: lc.code, procedure_name: lc.name, procedure_time: fmtDateTime(d, v.day + 1, 540), operator: doctor }, reg, v.day + 1, 540, [{ kind: 'procedure', system: SYSTEMS.icd9cm3, code: PROCEDURES[k].code, local: lc.code }]);
  }
}

/** Public-health rows (基本公卫): archive, contract, follow-up, check-up, immunization, antenatal care. */
export function renderPublicHealthCsv(ctx: RenderContext, instIdx: number, reg: Registration, e: PublicHealthEvent, extra: { doctor: string; team: string; birth: number; sex: string }): void {
  const inst = ctx.inst(instIdx);
  const d = inst.csv!;
  const cat = ctx.cat(instIdx);
  const m = 9 * 60 + ctx.rng.int(0, 420);
  switch (e.kind) {
    case 'archive':
      row(ctx, inst, 'health_archive', {
        archive_no: reg.mrn, name: reg.name, sex_code: reg.sex === '0' ? '' : reg.sex, birth_date: fmtDate(d, reg.birth), id_number: reg.idNumber, phone: reg.phone,
        division_code: reg.divisionCode, address: reg.address, created_date: fmtDate(d, e.day), responsible_doctor: extra.doctor, contract_date: fmtDate(d, e.contractDay),
      }, reg, e.day, m, [{ kind: 'sex', system: SYSTEMS.sex, code: reg.sex, local: reg.sex === '0' ? '' : reg.sex }], {}, true);
      if (e.contractDay !== undefined) {
        for (let start = e.contractDay; start <= ctx.world.endDay; start += 365) {
          row(ctx, inst, 'family_doctor_contract', {
            contract_no: ctx.nextId('QY', 6), team_name: extra.team, doctor: extra.doctor, start_date: fmtDate(d, start), end_date: fmtDate(d, start + 364),
            package: ctx.rng.pick(['基础包', '高血压包', '糖尿病包', '老年人包']),
          }, reg, start, m, []);
          if (!ctx.rng.chance(0.9)) break;
        }
      }
      return;
    case 'followup': {
      const glucoseMgdl = ctx.rng.chance(0.03);
      row(ctx, inst, 'chronic_followup', {
        disease: e.disease === 'hypertension' ? '1' : '2', followup_date: fmtDate(d, e.day), followup_method: e.method, sbp: String(e.sbp), dbp: String(e.dbp),
        fasting_glucose: e.disease === 'diabetes' ? (glucoseMgdl ? (e.fpg * 18.016).toFixed(0) : e.fpg.toFixed(1)) : '', glucose_unit: e.disease === 'diabetes' && glucoseMgdl ? 'mg/dL' : '',
        weight: e.weight.toFixed(1), heart_rate: String(e.hr), control_status: e.controlled ? '1' : '2', next_date: fmtDate(d, e.day + 91), doctor: extra.doctor,
      }, reg, e.day, m, [
        { kind: 'diagnosis', system: SYSTEMS.icd10, code: e.disease === 'hypertension' ? 'I10' : 'E11.9', local: e.disease === 'hypertension' ? '1' : '2' },
        { kind: 'vital', system: SYSTEMS.loinc, code: '8480-6', value: e.sbp, unit: 'mm[Hg]' },
        { kind: 'vital', system: SYSTEMS.loinc, code: '8462-4', value: e.dbp, unit: 'mm[Hg]' },
        ...(e.disease === 'diabetes' ? [{ kind: 'lab', system: SYSTEMS.loinc, code: '1558-6', value: e.fpg, unit: 'mmol/L' }] : []),
      ], { controlled: e.controlled } as Partial<TruthRecord>);
      return;
    }
    case 'checkup':
      row(ctx, inst, 'physical_exam', {
        exam_date: fmtDate(d, e.day), height: e.height.toFixed(1), weight: e.weight.toFixed(1), sbp: String(e.sbp), dbp: String(e.dbp), fasting_glucose: e.fpg.toFixed(2),
        total_cholesterol: e.chol.toFixed(2), creatinine: e.crea.toFixed(0), conclusion: e.sbp >= 140 || e.fpg >= 7 ? '体检发现异常，建议复查' : '体检未见明显异常',
      }, reg, e.day, m, [
        { kind: 'vital', system: SYSTEMS.loinc, code: '8480-6', value: e.sbp, unit: 'mm[Hg]' }, { kind: 'vital', system: SYSTEMS.loinc, code: '8462-4', value: e.dbp, unit: 'mm[Hg]' },
        { kind: 'lab', system: SYSTEMS.loinc, code: '1558-6', value: e.fpg, unit: 'mmol/L' }, { kind: 'lab', system: SYSTEMS.loinc, code: '2093-3', value: e.chol, unit: 'mmol/L' },
        { kind: 'lab', system: SYSTEMS.loinc, code: '2160-0', value: e.crea, unit: 'umol/L' },
      ]);
      return;
    case 'imm': {
      const vac = VACCINES.find((x) => x.key === e.vaccine)!;
      const lc = cat.vaccine.get(e.vaccine)!;
      row(ctx, inst, 'immunization', { vaccine_code: lc.code, vaccine_name: lc.name, dose_number: String(e.dose), vaccination_date: fmtDate(d, e.day), lot_number: e.lot, site: vac.site }, reg, e.day, m, [{ kind: 'vaccine', system: SYSTEMS.cvx, code: vac.cvx, local: lc.code }]);
      return;
    }
    case 'anc':
      row(ctx, inst, 'antenatal_care', { visit_date: fmtDate(d, e.day), gestational_weeks: String(e.weeks), sbp: String(e.sbp), dbp: String(e.dbp), weight: e.weight.toFixed(1), hemoglobin: String(e.hgb), expected_delivery_date: fmtDate(d, e.edd) }, reg, e.day, m, [
        { kind: 'vital', system: SYSTEMS.loinc, code: '49051-6', value: e.weeks, unit: 'wk' }, { kind: 'lab', system: SYSTEMS.loinc, code: '718-7', value: e.hgb, unit: 'g/L' },
      ]);
      return;
  }
}
