import type {
  CodeableConcept, Condition, DiagnosticReport, Encounter, Immunization, MedicationRequest, Observation, Procedure, Reference,
} from '@medplum/fhirtypes';
import { SYSTEMS, toUcum } from '../terminology/index.ts';
import type { PatientRef, UnitContext } from './context.ts';
import type { ParsedDate } from './dates.ts';
import { stableId } from './ids.ts';

/**
 * Builders of the canonical FHIR R4 clinical resources shared by every channel (HL7 v2, core-table CSV, FHIR).
 * Each takes already-extracted facts, maps local codes through the context (standard coding first, original local
 * coding kept after it) and references the institution-level Patient and the institution's Organization.
 */
const ACT = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const OBS_CAT = 'http://terminology.hl7.org/CodeSystem/observation-category';

export type EncounterClass = 'AMB' | 'EMER' | 'IMP' | 'HH' | 'VR';
const CLASS_DISPLAY: Record<EncounterClass, string> = { AMB: 'ambulatory', EMER: 'emergency', IMP: 'inpatient encounter', HH: 'home health', VR: 'virtual' };

export function encounterRef(ctx: UnitContext, visitId: string | undefined): Reference<Encounter> | undefined {
  return visitId?.trim() ? { reference: `Encounter/${stableId('Encounter', ctx.institutionId, visitId.trim())}` } : undefined;
}

export function encounter(
  ctx: UnitContext,
  f: { visitId: string; patient: PatientRef; cls: EncounterClass; start: ParsedDate; end?: ParsedDate; dept?: { code?: string; name?: string }; type?: CodeableConcept[]; reason?: CodeableConcept[]; participant?: string },
): Encounter {
  const e: Encounter = {
    ...ctx.frame('Encounter', f.visitId),
    identifier: [{ system: `${ctx.mrnIdentifier('').system}/visit`, value: f.visitId }],
    status: f.cls === 'IMP' && !f.end ? 'in-progress' : 'finished',
    class: { system: ACT, code: f.cls, display: CLASS_DISPLAY[f.cls] },
    subject: { reference: f.patient.reference },
    period: { start: f.start.dateTime, ...(f.end ? { end: f.end.dateTime } : {}) },
    serviceProvider: ctx.org(),
  };
  if (f.type?.length) e.type = f.type;
  if (f.reason?.length) e.reasonCode = f.reason;
  if (f.dept && (f.dept.code || f.dept.name)) {
    // Departments have no national standard code set here: kept as the institution's local coding.
    e.serviceType = {
      ...(f.dept.code ? { coding: [{ system: `${SYSTEMS.localPrefix}${encodeURIComponent(ctx.institutionId)}/department`, code: f.dept.code, ...(f.dept.name ? { display: f.dept.name } : {}) }] } : {}),
      ...(f.dept.name ? { text: f.dept.name } : {}),
    };
  }
  if (f.participant) e.participant = [{ individual: { display: f.participant } }];
  return e;
}

export function condition(
  ctx: UnitContext,
  f: { key: string; patient: PatientRef; encounter?: Reference<Encounter>; code: CodeableConcept; recorded?: ParsedDate; principal?: boolean },
): Condition {
  return {
    ...ctx.frame('Condition', f.key),
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }], ...(f.principal ? { text: '主要诊断' } : {}) }],
    code: f.code,
    subject: { reference: f.patient.reference },
    ...(f.encounter ? { encounter: f.encounter } : {}),
    ...(f.recorded ? { recordedDate: f.recorded.dateTime } : {}),
  };
}

const FLAG: Record<string, string> = { H: 'H', HH: 'HH', L: 'L', LL: 'LL', N: 'N', A: 'A', '↑': 'H', '↓': 'L', '高': 'H', '低': 'L', '正常': 'N' };

/**
 * One quantitative result (lab item or vital sign) as an Observation: the local item mapped to LOINC, the value
 * normalised to the canonical unit; `code.coding` = [canonical LOINC, the mapped LOINC when it is the other
 * (mass/molar) twin, the original local coding].
 */
export async function quantityObservation(
  ctx: UnitContext,
  f: {
    key: string; patient: PatientRef; encounter?: Reference<Encounter>; local: { system?: string; code?: string; display?: string } | { loinc: string };
    value: string | number | undefined; unit?: string; effective?: ParsedDate; issued?: ParsedDate; referenceRange?: string; flag?: string; element: string;
  },
): Promise<Observation | undefined> {
  let code: CodeableConcept | undefined;
  if ('loinc' in f.local) {
    const c = ctx.terminology.lookup(SYSTEMS.loinc, f.local.loinc)!;
    code = { coding: [{ system: SYSTEMS.loinc, code: c.code, display: c.display }], text: c.display };
  } else {
    code = await ctx.code('lab', f.local, f.element);
  }
  if (!code) return undefined;
  const mapped = ctx.terminology.lookup(SYSTEMS.loinc, code.coding![0].code!);
  // A valid LOINC code outside the tables, or imported with no canonical unit of the platform's (issue 17): the value
  // as sent, its unit kept as UCUM when it is UCUM.
  if (!mapped || (mapped.properties.unit === undefined && mapped.properties.scale !== undefined && mapped.properties.category !== 'laboratory-ord')) {
    return valueAsSent(ctx, f, code);
  }
  if (mapped.properties.category === 'laboratory-ord') return ordinalObservation(ctx, f, code, mapped);
  if (mapped.properties.unit === undefined) return ctx.fail('unsupported-message', `LOINC ${mapped.code} is not a quantitative item`, f.element);
  const q = ctx.quantity(mapped, f.value, f.unit, f.element);
  if (!q) return undefined;
  const canonical = ctx.terminology.lookup(SYSTEMS.loinc, q.code)!;
  const coding = [{ system: SYSTEMS.loinc, code: canonical.code, display: canonical.display }, ...code.coding!.filter((c) => !(c.system === SYSTEMS.loinc && c.code === canonical.code))];
  const cat = canonical.properties.category === 'vital-signs' ? 'vital-signs' : 'laboratory';
  const o: Observation = {
    ...ctx.frame('Observation', f.key),
    status: 'final',
    category: [{ coding: [{ system: OBS_CAT, code: cat }] }],
    code: { coding, text: code.text },
    subject: { reference: f.patient.reference },
    ...(f.encounter ? { encounter: f.encounter } : {}),
    ...(f.effective ? { effectiveDateTime: f.effective.dateTime } : {}),
    ...(f.issued && f.issued.dateTime.includes('T') ? { issued: new Date(f.issued.ms).toISOString() } : {}),
    performer: [ctx.org()],
    valueQuantity: q.quantity,
  };
  const flag = f.flag?.trim() ? FLAG[f.flag.trim().toUpperCase()] : undefined;
  if (flag) o.interpretation = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: flag }] }];
  const rr = f.referenceRange?.trim();
  if (rr) {
    const m = /^([\d.]+)\s*[-~～—]\s*([\d.]+)$/.exec(rr.normalize('NFKC'));
    const same = !q.quantity.extension; // the range is in the unit as sent: numeric only when no conversion happened
    o.referenceRange = [m && same
      ? { low: { value: Number(m[1]), unit: q.quantity.unit, system: SYSTEMS.ucum, code: q.quantity.code }, high: { value: Number(m[2]), unit: q.quantity.unit, system: SYSTEMS.ucum, code: q.quantity.code }, text: rr }
      : { text: rr }];
  }
  return o;
}

/** A result kept with its value and unit as sent: a number as a Quantity (UCUM when the unit is), else text. */
function valueAsSent(
  ctx: UnitContext, f: { key: string; patient: PatientRef; encounter?: Reference<Encounter>; value: string | number | undefined; unit?: string; effective?: ParsedDate; element: string },
  code: CodeableConcept,
): Observation | undefined {
  const text = typeof f.value === 'number' ? String(f.value) : (f.value ?? '').normalize('NFKC').trim();
  if (!text) return ctx.fail('missing-required', `${f.element} value is empty`, f.element);
  const unit = f.unit?.trim();
  const ucum = unit ? toUcum(unit) : undefined;
  const numeric = /^[-+]?(\d+\.?\d*|\.\d+)$/.test(text);
  return {
    ...ctx.frame('Observation', f.key),
    status: 'final',
    category: [{ coding: [{ system: OBS_CAT, code: 'laboratory' }] }],
    code,
    subject: { reference: f.patient.reference },
    ...(f.encounter ? { encounter: f.encounter } : {}),
    ...(f.effective ? { effectiveDateTime: f.effective.dateTime } : {}),
    performer: [ctx.org()],
    ...(numeric ? { valueQuantity: { value: Number(text), ...(unit ? { unit } : {}), ...(ucum ? { system: SYSTEMS.ucum, code: ucum } : {}) } } : { valueString: text }),
  };
}

const SNOMED = 'http://snomed.info/sct';
const ORDINAL: Array<[RegExp, string, string]> = [
  [/^(阳性|\+|[1-4]\+|pos(itive)?|检出|p)$/i, '10828004', 'Positive'],
  [/^(阴性|-|neg(ative)?|未检出|n)$/i, '260385009', 'Negative'],
];

/** A qualitative (ordinal) lab result, 阳性/阴性 → SNOMED CT Positive/Negative, the text kept. */
function ordinalObservation(
  ctx: UnitContext, f: { key: string; patient: PatientRef; encounter?: Reference<Encounter>; value: string | number | undefined; effective?: ParsedDate; element: string },
  code: CodeableConcept, concept: { code: string; display: string },
): Observation | undefined {
  const text = String(f.value ?? '').normalize('NFKC').trim();
  if (!text) return ctx.fail('missing-required', `${f.element} value is empty`, f.element);
  const hit = ORDINAL.find(([re]) => re.test(text));
  return {
    ...ctx.frame('Observation', f.key),
    status: 'final',
    category: [{ coding: [{ system: OBS_CAT, code: 'laboratory' }] }],
    code: { coding: [{ system: SYSTEMS.loinc, code: concept.code, display: concept.display }, ...code.coding!.slice(1)], text: code.text },
    subject: { reference: f.patient.reference },
    ...(f.encounter ? { encounter: f.encounter } : {}),
    ...(f.effective ? { effectiveDateTime: f.effective.dateTime } : {}),
    performer: [ctx.org()],
    valueCodeableConcept: hit ? { coding: [{ system: SNOMED, code: hit[1], display: hit[2] }], text } : { text },
  };
}

/** A coded (non-numeric) observation of the platform's own record kinds (follow-up classification, assessments). */
export function codedObservation(
  ctx: UnitContext,
  f: { key: string; patient: PatientRef; encounter?: Reference<Encounter>; code: CodeableConcept; effective?: ParsedDate; value: Partial<Pick<Observation, 'valueCodeableConcept' | 'valueString' | 'valueDateTime'>>; category?: string },
): Observation {
  return {
    ...ctx.frame('Observation', f.key),
    status: 'final',
    category: [{ coding: [{ system: OBS_CAT, code: f.category ?? 'survey' }] }],
    code: f.code,
    subject: { reference: f.patient.reference },
    ...(f.encounter ? { encounter: f.encounter } : {}),
    ...(f.effective ? { effectiveDateTime: f.effective.dateTime } : {}),
    performer: [ctx.org()],
    ...f.value,
  };
}

export function diagnosticReport(
  ctx: UnitContext,
  f: { key: string; patient: PatientRef; encounter?: Reference<Encounter>; code: CodeableConcept; category: 'LAB' | 'RAD' | 'OTH'; results?: string[]; effective?: ParsedDate; issued?: ParsedDate; conclusion?: string; findings?: string },
): DiagnosticReport {
  const d: DiagnosticReport = {
    ...ctx.frame('DiagnosticReport', f.key),
    identifier: [{ system: `${ctx.mrnIdentifier('').system}/report`, value: f.key }],
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: f.category }] }],
    code: f.code,
    subject: { reference: f.patient.reference },
    ...(f.encounter ? { encounter: f.encounter } : {}),
    ...(f.effective ? { effectiveDateTime: f.effective.dateTime } : {}),
    ...(f.issued ? { issued: new Date(f.issued.ms).toISOString() } : {}),
    performer: [ctx.org()],
  };
  if (f.results?.length) d.result = f.results.map((id) => ({ reference: `Observation/${id}` }));
  if (f.conclusion?.trim()) d.conclusion = f.conclusion.trim();
  if (f.findings?.trim()) d.presentedForm = [{ contentType: 'text/plain; charset=utf-8', title: '检查所见', data: Buffer.from(f.findings.trim(), 'utf8').toString('base64') }];
  return d;
}

const TIMING: Record<string, string> = { QD: 'QD', BID: 'BID', TID: 'TID', QID: 'QID', QOD: 'QOD', QN: 'QHS', QHS: 'QHS', Q8H: 'Q8H', Q12H: 'BID', PRN: '' };

export async function medicationRequest(
  ctx: UnitContext,
  f: {
    key: string; patient: PatientRef; encounter?: Reference<Encounter>; drug: { system?: string; code?: string; display?: string }; groupId?: string;
    dose?: string; doseUnit?: string; frequency?: string; route?: string; days?: string; quantity?: string; strength?: string; authored?: ParsedDate; element: string;
    status?: MedicationRequest['status'];
  },
): Promise<MedicationRequest | undefined> {
  const med = await ctx.code('drug', f.drug, f.element);
  if (!med) return undefined;
  const freq = f.frequency?.trim().toUpperCase();
  const text = [f.strength, f.dose && `${f.dose}${f.doseUnit ?? ''}`, f.frequency, f.route].filter((x) => x && String(x).trim()).join(' ');
  const dose = f.dose && Number.isFinite(Number(f.dose)) ? Number(f.dose) : undefined;
  const m: MedicationRequest = {
    ...ctx.frame('MedicationRequest', f.key),
    status: f.status ?? 'completed',
    intent: 'order',
    medicationCodeableConcept: med,
    subject: { reference: f.patient.reference },
    ...(f.encounter ? { encounter: f.encounter } : {}),
    ...(f.authored ? { authoredOn: f.authored.dateTime } : {}),
    requester: ctx.org(),
    ...(f.groupId ? { groupIdentifier: { system: `${ctx.mrnIdentifier('').system}/prescription`, value: f.groupId } } : {}),
  };
  if (text || dose !== undefined) {
    m.dosageInstruction = [{
      ...(text ? { text } : {}),
      ...(freq && TIMING[freq] ? { timing: { code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation', code: TIMING[freq] }], text: f.frequency } } } : {}),
      ...(f.route?.trim() ? { route: { text: f.route.trim() } } : {}),
      ...(dose !== undefined ? { doseAndRate: [{ doseQuantity: { value: dose, ...(f.doseUnit?.trim() ? { unit: f.doseUnit.trim() } : {}) } }] } : {}),
    }];
  }
  const days = f.days && /^\d+$/.test(f.days.trim()) ? Number(f.days) : undefined;
  const qty = f.quantity && Number.isFinite(Number(f.quantity)) && f.quantity.trim() ? Number(f.quantity) : undefined;
  if (days !== undefined || qty !== undefined) {
    m.dispenseRequest = {
      ...(qty !== undefined ? { quantity: { value: qty } } : {}),
      ...(days !== undefined ? { expectedSupplyDuration: { value: days, unit: 'd', system: SYSTEMS.ucum, code: 'd' } } : {}),
    };
  }
  return m;
}

export async function procedure(
  ctx: UnitContext,
  f: { key: string; patient: PatientRef; encounter?: Reference<Encounter>; local: { system?: string; code?: string; display?: string }; performed: ParsedDate; operator?: string; element: string },
): Promise<Procedure | undefined> {
  const code = await ctx.code('procedure', f.local, f.element);
  if (!code) return undefined;
  return {
    ...ctx.frame('Procedure', f.key),
    status: 'completed',
    code,
    subject: { reference: f.patient.reference },
    ...(f.encounter ? { encounter: f.encounter } : {}),
    performedDateTime: f.performed.dateTime,
    performer: [f.operator?.trim() ? { actor: { display: f.operator.trim() }, onBehalfOf: ctx.org() } : { actor: ctx.org() }],
  };
}

export async function immunization(
  ctx: UnitContext,
  f: { key: string; patient: PatientRef; encounter?: Reference<Encounter>; local: { system?: string; code?: string; display?: string }; date: ParsedDate; dose?: string; lot?: string; site?: string; element: string },
): Promise<Immunization | undefined> {
  const code = await ctx.code('vaccine', f.local, f.element);
  if (!code) return undefined;
  const first = code.coding![0];
  const std = first.system === SYSTEMS.vaccine ? ctx.terminology.lookup(SYSTEMS.vaccine, first.code!) : undefined;
  const cvx = std?.properties.cvx;
  // CVX alongside the national code where one exists, for exchange with systems that only know CVX (once: a sender
  // coding in CVX already has it).
  if (typeof cvx === 'string' && !code.coding!.some((c) => c.system === SYSTEMS.cvx)) code.coding!.splice(1, 0, { system: SYSTEMS.cvx, code: cvx });
  const dose = f.dose && /^\d+$/.test(f.dose.trim()) && Number(f.dose) > 0 ? Number(f.dose) : undefined;
  return {
    ...ctx.frame('Immunization', f.key),
    status: 'completed',
    vaccineCode: code,
    patient: { reference: f.patient.reference },
    ...(f.encounter ? { encounter: f.encounter } : {}),
    occurrenceDateTime: f.date.dateTime,
    primarySource: true,
    performer: [{ actor: ctx.org() }],
    ...(f.lot?.trim() ? { lotNumber: f.lot.trim() } : {}),
    ...(f.site?.trim() ? { site: { text: f.site.trim() } } : {}),
    ...(dose ? { protocolApplied: [{ doseNumberPositiveInt: dose }] } : {}),
  };
}
