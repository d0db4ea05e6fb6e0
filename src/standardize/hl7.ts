import { Hl7Message, type Hl7Segment } from '@medplum/core';
import type { CodeableConcept, ServiceRequest } from '@medplum/fhirtypes';
import { decodeUnit, type LandedUnit } from '../ingest/index.ts';
import { condition, diagnosticReport, encounter, encounterRef, medicationRequest, quantityObservation, type EncounterClass } from './clinical.ts';
import type { UnitContext } from './context.ts';
import { mrnSystem } from './ids.ts';
import { buildPatient } from './patient.ts';

/**
 * HL7 v2.3–2.5.1 messages → canonical FHIR R4. Field numbers are the standard's (1-based; PID-3 is getField(3)).
 *  ADT^A01/A04/A08 → Patient (PID) + Encounter (PV1, for A01/A04 and for an A08 that carries a visit number) +
 *  Condition per DG1; ADT^A40 → merge instruction to the EMPI (PID-3 surviving, MRG-1 prior);
 *  ORU^R01 → Observation per numeric OBX + DiagnosticReport per OBR; ORM^O01 → ServiceRequest (OBR) or
 *  MedicationRequest (RXO), per ORC.
 */
export async function standardizeHl7(ctx: UnitContext): Promise<void> {
  let msg: Hl7Message;
  try {
    msg = parsed.get(ctx.unit) ?? parseHl7(ctx.unit);
  } catch (err) {
    return void ctx.fail('unparseable', `HL7 v2: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (msg.header?.name !== 'MSH') return void ctx.fail('unparseable', 'HL7 v2: no MSH segment', 'MSH');
  const type = `${msg.header.getField(9).getComponent(1)}^${msg.header.getField(9).getComponent(2)}`.toUpperCase();
  switch (type) {
    case 'ADT^A01':
    case 'ADT^A04':
    case 'ADT^A08':
      return adt(ctx, msg, type);
    case 'ADT^A40':
      return merge(ctx, msg);
    case 'ORU^R01':
      return oru(ctx, msg);
    case 'ORM^O01':
      return orm(ctx, msg);
    default:
      return void ctx.fail('unsupported-message', `HL7 v2 message type ${type}`, 'MSH-9');
  }
}

// Real senders end segments with CR, LF or CRLF; @medplum/hl7 splits on CR.
const parseHl7 = (unit: LandedUnit): Hl7Message => Hl7Message.parse(decodeUnit(unit).replace(/\r\n|\n/g, '\r').replace(/\r+$/, ''));

/** Messages parsed ahead by `hl7Lookups` (the batch's read-ahead), parsed once: the standardizer reuses them. */
const parsed = new WeakMap<LandedUnit, Hl7Message>();

/**
 * What standardizing this message will look up, read ahead for a whole batch: the local patient id (PID-3) of an
 * ORU^R01 or ORM^O01, or of an ADT^A01/A04/A08 (which registers it). Nothing for a message that does not parse.
 */
export function hl7Lookups(unit: LandedUnit): { mrn?: string; registers?: string } {
  let msg: Hl7Message;
  try {
    msg = parseHl7(unit);
  } catch {
    return {};
  }
  parsed.set(unit, msg);
  if (msg.header?.name !== 'MSH') return {};
  const type = `${msg.header.getField(9).getComponent(1)}^${msg.header.getField(9).getComponent(2)}`.toUpperCase();
  const pid = msg.getSegment('PID');
  const mrn = (pid ? pidIds(pid).mrn : undefined)?.trim() || undefined;
  if (type === 'ORU^R01' || type === 'ORM^O01') return { mrn };
  return type === 'ADT^A01' || type === 'ADT^A04' || type === 'ADT^A08' ? { registers: mrn } : {};
}

const s = (seg: Hl7Segment | undefined, field: number, comp = 1, rep = 0): string =>
  seg ? seg.getComponent(field, comp, undefined, rep).trim() : '';

/** PID-3 repetitions: the local MRN (CX-5 MR/PI/PT or untyped) and the national ID (CX-5 ID/NNCHN/NI) / passport. */
function pidIds(pid: Hl7Segment): { mrn?: string; id?: string; idType?: string } {
  const out: { mrn?: string; id?: string; idType?: string } = {};
  const reps = pid.getField(3).components.length;
  for (let r = 0; r < reps; r++) {
    const value = s(pid, 3, 1, r);
    const kind = s(pid, 3, 5, r).toUpperCase();
    if (!value) continue;
    if (['ID', 'NNCHN', 'NI', 'SS', 'CZ'].includes(kind)) out.id ??= value;
    else if (kind === 'PPN') { out.id ??= value; out.idType ??= '03'; }
    else out.mrn ??= value;
  }
  // v2.3 senders often put the ID card number in PID-19 (SSN) or PID-2.
  if (!out.id && s(pid, 19)) out.id = s(pid, 19);
  return out;
}

async function patientFromPid(ctx: UnitContext, pid: Hl7Segment) {
  const ids = pidIds(pid);
  const family = s(pid, 5, 1);
  const given = s(pid, 5, 2);
  return buildPatient(ctx, {
    mrn: ids.mrn, family, given, name: given ? undefined : family, sex: { code: s(pid, 8), hl7: true }, birthDate: s(pid, 7),
    idType: ids.idType, idNumber: ids.id, phone: s(pid, 13), address: [s(pid, 11, 1), s(pid, 11, 2)].filter(Boolean).join(''),
    divisionCode: s(pid, 11, 9) || undefined, element: (f) => ({ mrn: 'PID-3', name: 'PID-5', birthDate: 'PID-7' } as Record<string, string>)[f] ?? 'PID',
  });
}

/**
 * PV1-19 visit number and PV1-44 admit time. Some vendors write them one field early (PV1-18 / PV1-43, an
 * off-by-one seen in real exports): accepted when the standard field is empty and the value has the right shape
 * (a visit id is not a short patient-type code; a time is a DTM).
 */
function pv1Visit(pv1: Hl7Segment | undefined): { visitId: string; admit: string; discharge: string } {
  const v19 = s(pv1, 19);
  const v18 = s(pv1, 18);
  const a44 = s(pv1, 44);
  const a43 = s(pv1, 43);
  return {
    visitId: v19 || (v18.length > 4 ? v18 : ''),
    admit: a44 || (/^\d{12,14}/.test(a43) ? a43 : ''),
    discharge: s(pv1, 45),
  };
}

const PV1_CLASS: Record<string, EncounterClass> = { I: 'IMP', O: 'AMB', E: 'EMER', P: 'AMB', R: 'AMB', B: 'AMB' };

async function adt(ctx: UnitContext, msg: Hl7Message, type: string): Promise<void> {
  const pid = msg.getSegment('PID');
  if (!pid) return void ctx.fail('missing-required', 'ADT without PID', 'PID');
  const patient = await patientFromPid(ctx, pid);
  if (!patient) return;
  ctx.resources.push(patient);
  const ref = { id: patient.id!, reference: `Patient/${patient.id}`, birthDate: patient.birthDate };
  const pv1 = msg.getSegment('PV1');
  const { visitId, admit, discharge } = pv1Visit(pv1);
  if (!pv1 || (type === 'ADT^A08' && !visitId)) return;
  if (!visitId) return void ctx.fail('missing-required', 'PV1-19 visit number is empty', 'PV1-19');
  const start = ctx.date(admit || s(msg.header, 7), 'PV1-44', { required: true, birthDate: patient.birthDate });
  const end = ctx.date(discharge, 'PV1-45', { birthDate: patient.birthDate });
  if (!start) return;
  ctx.resources.push(encounter(ctx, {
    visitId, patient: ref, cls: PV1_CLASS[s(pv1, 2).toUpperCase()] ?? 'AMB', start, end,
    dept: { code: s(pv1, 3, 1) || undefined, name: s(pv1, 3, 9) || s(pv1, 10) || undefined }, participant: [s(pv1, 7, 2), s(pv1, 7, 3)].join('') || undefined,
  }));
  for (const [i, dg1] of msg.getAllSegments('DG1').entries()) {
    const code = await ctx.code('diagnosis', { code: s(dg1, 3, 1), display: s(dg1, 3, 2) || s(dg1, 4) }, `DG1[${i + 1}]-3`);
    const recorded = ctx.date(s(dg1, 5), `DG1[${i + 1}]-5`, { birthDate: patient.birthDate }) ?? start;
    if (code) ctx.resources.push(condition(ctx, { key: `${visitId}/dg1/${s(dg1, 1) || i + 1}`, patient: ref, encounter: encounterRef(ctx, visitId), code, recorded, principal: s(dg1, 6) === 'A' || s(dg1, 15) === '1' }));
  }
}

async function merge(ctx: UnitContext, msg: Hl7Message): Promise<void> {
  const pid = msg.getSegment('PID');
  const mrg = msg.getSegment('MRG');
  const surviving = pid ? pidIds(pid).mrn : undefined;
  const prior = s(mrg, 1);
  if (!surviving) return void ctx.fail('missing-required', 'ADT^A40 without PID-3', 'PID-3');
  if (!prior) return void ctx.fail('missing-required', 'ADT^A40 without MRG-1', 'MRG-1');
  const sys = mrnSystem(ctx.institutionId);
  // No resource is produced: the EMPI records the merge; clinical rows keep their own patient_key (issue 2 rule).
  await ctx.services.mergePatients?.(ctx.tx, { institutionId: ctx.institutionId, survivingIdentifier: `${sys}|${surviving}`, priorIdentifier: `${sys}|${prior}` });
}

async function oru(ctx: UnitContext, msg: Hl7Message): Promise<void> {
  const pid = msg.getSegment('PID');
  const patient = await ctx.patient(pid ? pidIds(pid).mrn : undefined, 'PID-3');
  const visit = encounterRef(ctx, pv1Visit(msg.getSegment('PV1')).visitId);
  let obr: Hl7Segment | undefined;
  let results: string[] = [];
  const flush = async () => {
    if (!obr || !patient) return;
    const reportId = s(obr, 3) || s(obr, 2) || `${s(msg.header, 10)}/${s(obr, 1)}`;
    const effective = ctx.date(s(obr, 7), 'OBR-7', { birthDate: patient.birthDate });
    const issued = ctx.date(s(obr, 22), 'OBR-22', { birthDate: patient.birthDate }) ?? effective;
    const code = await panel(ctx, obr);
    ctx.resources.push(diagnosticReport(ctx, { key: reportId, patient, encounter: visit, code, category: 'LAB', results, effective, issued }));
  };
  for (const seg of msg.segments) {
    if (seg.name === 'OBR') {
      await flush();
      obr = seg;
      results = [];
    } else if (seg.name === 'OBX' && obr && patient) {
      const el = `OBX[${s(seg, 1)}]`;
      const valueType = s(seg, 2).toUpperCase();
      if (valueType && valueType !== 'NM' && valueType !== 'SN' && valueType !== 'ST') continue; // text/encapsulated results are not normalised here
      const reportId = s(obr, 3) || s(obr, 2) || `${s(msg.header, 10)}/${s(obr, 1)}`;
      const obs = await quantityObservation(ctx, {
        key: `${reportId}/${s(seg, 1) || s(seg, 3)}`, patient, encounter: visit, local: { code: s(seg, 3, 1), display: s(seg, 3, 2), system: localSystemOf(seg) },
        value: valueType === 'SN' ? s(seg, 5, 2) : s(seg, 5), unit: obxUnit(seg), referenceRange: s(seg, 7), flag: s(seg, 8),
        effective: ctx.date(s(seg, 14) || s(obr, 7), `${el}-14`, { birthDate: patient.birthDate }), element: `${el}-5`,
      });
      if (obs) {
        ctx.resources.push(obs);
        results.push(obs.id!);
      }
    }
  }
  await flush();
  if (!msg.getSegment('OBR') && patient) ctx.fail('missing-required', 'ORU^R01 without OBR', 'OBR');
}

/**
 * OBX-6 units: CE component 1; a sender that writes "×10^9/L" without escaping the caret splits it into components
 * ("×10" ^ "9/L"), which is put back together; an escaped caret (\S\) is unescaped.
 */
function obxUnit(obx: Hl7Segment): string {
  const c1 = s(obx, 6, 1);
  const c2 = s(obx, 6, 2);
  const unit = /10$/.test(c1) && /^\d+\//.test(c2) ? `${c1}^${c2}` : c1;
  return unit.replace(/\\S\\/g, '^');
}

/** OBX-3.3 names the coding system: "LN" is LOINC itself; anything else is the sender's local system. */
function localSystemOf(obx: Hl7Segment): string | undefined {
  const sys = s(obx, 3, 3).toUpperCase();
  return sys === 'LN' ? 'http://loinc.org' : undefined;
}

async function panel(ctx: UnitContext, obr: Hl7Segment): Promise<CodeableConcept> {
  const code = s(obr, 4, 1);
  const name = s(obr, 4, 2);
  const r = await ctx.services.mapper.map(ctx.tx, { institutionId: ctx.institutionId, kind: 'panel', code: code || undefined, display: name || undefined });
  const local = code ? [{ system: r.status === 'unmapped' ? r.localSystem : `https://healthbrain.cn/fhir/local/${encodeURIComponent(ctx.institutionId)}/panel`, code, ...(name ? { display: name } : {}) }] : [];
  if (r.status === 'mapped') return { coding: [r.coding, ...local], text: name || r.coding.display };
  return { ...(local.length ? { coding: local } : {}), text: name || code || '检验报告' };
}

async function orm(ctx: UnitContext, msg: Hl7Message): Promise<void> {
  const pid = msg.getSegment('PID');
  const patient = await ctx.patient(pid ? pidIds(pid).mrn : undefined, 'PID-3');
  if (!patient) return;
  const visit = encounterRef(ctx, pv1Visit(msg.getSegment('PV1')).visitId);
  let orc: Hl7Segment | undefined;
  for (const seg of msg.segments) {
    if (seg.name === 'ORC') orc = seg;
    const control = s(orc, 1).toUpperCase();
    const status: ServiceRequest['status'] = control === 'CA' || control === 'OC' ? 'revoked' : control === 'DC' ? 'revoked' : 'active';
    const placer = s(orc, 2) || s(seg, 2);
    const authored = ctx.date(s(orc, 9) || s(msg.header, 7), 'ORC-9', { birthDate: patient.birthDate });
    if (seg.name === 'OBR') {
      const kind = /^(XR|CT|US|MR|EC|ECG|DR|RAD)/i.test(s(seg, 24)) ? 'exam' : 'panel';
      const code = await ctx.code(kind, { code: s(seg, 4, 1), display: s(seg, 4, 2) }, 'OBR-4');
      if (!code) continue;
      const sr: ServiceRequest = {
        ...ctx.frame('ServiceRequest', placer || `${s(msg.header, 10)}/${s(seg, 1)}`),
        identifier: [{ system: `${mrnSystem(ctx.institutionId)}/order`, value: placer || s(msg.header, 10) }],
        status, intent: 'order', code, subject: { reference: patient.reference }, ...(visit ? { encounter: visit } : {}),
        ...(authored ? { authoredOn: authored.dateTime } : {}), requester: ctx.org(),
      };
      ctx.resources.push(sr);
    } else if (seg.name === 'RXO') {
      const m = await medicationRequest(ctx, {
        key: `${placer || s(msg.header, 10)}/rxo`, patient, encounter: visit, drug: { code: s(seg, 1, 1), display: s(seg, 1, 2) },
        groupId: placer || undefined, dose: s(seg, 2), doseUnit: s(seg, 4, 2) || s(seg, 4, 1), authored, element: 'RXO-1',
        status: status === 'revoked' ? 'cancelled' : 'active',
      });
      if (m) ctx.resources.push(m);
    }
  }
  if (!msg.getSegment('OBR') && !msg.getSegment('RXO')) ctx.fail('missing-required', 'ORM^O01 without OBR or RXO', 'OBR');
}
