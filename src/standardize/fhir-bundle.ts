import { OperationOutcomeError } from '@medplum/core';
import type {
  Bundle, CodeableConcept, Condition, DiagnosticReport, Encounter, Identifier, Immunization, MedicationRequest, Observation, Patient, Procedure, Resource,
} from '@medplum/fhirtypes';
import { validateIncoming } from '../fhir/index.ts';
import { decodeUnit } from '../ingest/index.ts';
import { condition, diagnosticReport, encounter, immunization, medicationRequest, procedure, quantityObservation, type EncounterClass } from './clinical.ts';
import type { PatientRef, UnitContext } from './context.ts';
import { chooseCoding, KEPT_AS_SENT, keepObservationAsSent, NOT_STORED_TYPES, observationAsSent, resourceAsSent, withSentCodings } from './fhir-as-sent.ts';
import { buildPatient } from './patient.ts';
import { isStandardSystem } from '../terminology/index.ts';

/**
 * An institution's FHIR R4 Bundle (transaction/batch/collection) or single resource → the same canonical form as the
 * other channels: every entry is first validated against R4 (`invalid-resource` otherwise), then rebuilt by the
 * shared builders — local codings recoded to the standard system with the original coding kept alongside, units
 * normalised, references re-pointed to the platform's ids (the sender's urn:uuid, Type/id and conditional references
 * alike). The sender's Organization/Practitioner entries are not stored: references to them become the submitting
 * institution's Organization (or a display-only reference).
 */
export async function standardizeFhir(ctx: UnitContext, parsed?: unknown): Promise<Array<string | undefined>> {
  let body: unknown = parsed;
  if (body === undefined) {
    try {
      body = JSON.parse(decodeUnit(ctx.unit));
    } catch (err) {
      ctx.fail('unparseable', `JSON: ${err instanceof Error ? err.message : String(err)}`);
      return [];
    }
  }
  const bundle = isBundle(body) ? body : undefined;
  const entries = bundle ? (bundle.entry ?? []).map((e) => ({ fullUrl: e.fullUrl, resource: e.resource, url: e.request?.url })) : [{ fullUrl: undefined, resource: body as Resource, url: undefined }];
  const produced: Array<string | undefined> = entries.map(() => undefined);
  const valid: Array<{ index: number; fullUrl?: string; resource: Resource; url?: string }> = [];
  for (const [i, e] of entries.entries()) {
    try {
      valid.push({ ...e, index: i, resource: validateIncoming(e.resource) });
    } catch (err) {
      const issues = err instanceof OperationOutcomeError ? err.outcome.issue ?? [] : [];
      const detail = issues.map((x) => `${x.expression?.join(',') ?? ''} ${x.details?.text ?? x.diagnostics ?? ''}`.trim()).join('; ') || String(err);
      ctx.fail('invalid-resource', `${(e.resource as Resource | undefined)?.resourceType ?? 'entry'}: ${detail}`.slice(0, 500), bundle ? `Bundle.entry[${i}]` : undefined);
    }
  }
  if (ctx.reasons.length) return produced;
  // Reasons name the entry as a FHIRPath from the Bundle (Bundle.entry[3].resource.code), so a sender finds it.
  const at = (e: { index: number; resource: Resource }) => (bundle ? `Bundle.entry[${e.index}].resource` : e.resource.resourceType);
  const refs = new Map<string, PatientRef | string>();
  const alias = (e: { fullUrl?: string; resource: Resource }, target: string | PatientRef) => {
    if (e.fullUrl) refs.set(e.fullUrl, target);
    if (e.resource.id) refs.set(`${e.resource.resourceType}/${e.resource.id}`, target);
  };
  // Every produced resource answers to the sender's references (a Claim's diagnosisReference to a Condition …).
  const made = (e: { index: number; fullUrl?: string; resource: Resource }, r: Resource) => {
    produced[e.index] = `${r.resourceType}/${r.id}`;
    ctx.resources.push(r);
    if (r.resourceType !== 'Patient') alias(e, `${r.resourceType}/${r.id}`);
  };
  // Patients first: everything else references them.
  for (const e of valid.filter((x) => x.resource.resourceType === 'Patient')) {
    const p = await fromPatient(ctx, e.resource as Patient, e.url, at(e));
    if (p) {
      made(e, p);
      alias(e, { id: p.id!, reference: `Patient/${p.id}`, birthDate: p.birthDate });
    }
  }
  const patientOf = async (ref: string | undefined, element: string): Promise<PatientRef | undefined> => {
    if (!ref) return ctx.fail('missing-required', 'no subject/patient reference', element);
    const known = refs.get(ref);
    if (known && typeof known !== 'string') return known;
    const cond = /^Patient\?identifier=(?:[^|]*\|)?(.+)$/.exec(ref);
    return ctx.patient(cond ? decodeURIComponent(cond[1]) : undefined, element);
  };
  const order = ['Encounter', 'Condition', 'Observation', 'DiagnosticReport', 'MedicationRequest', 'Procedure', 'Immunization'];
  const rest = valid.filter((x) => x.resource.resourceType !== 'Patient').sort((a, b) => rank(order, a.resource.resourceType) - rank(order, b.resource.resourceType));
  for (const [i, e] of rest.entries()) {
    const r = e.resource;
    const el = at(e);
    const key = e.fullUrl ?? `${r.resourceType}/${r.id ?? i}`;
    if (NOT_STORED_TYPES.has(r.resourceType)) continue;
    if (KEPT_AS_SENT[r.resourceType]) {
      const ref = (r as unknown as Record<string, { reference?: string } | undefined>)[KEPT_AS_SENT[r.resourceType]]?.reference;
      const patient = await patientOf(ref, `${el}.${KEPT_AS_SENT[r.resourceType]}`);
      if (!patient) continue;
      const kept = resourceAsSent(ctx, r, key, patient, (x) => refs.get(x));
      made(e, kept);
      alias(e, `${kept.resourceType}/${kept.id}`);
      continue;
    }
    switch (r.resourceType) {
      case 'Encounter': {
        const patient = await patientOf(r.subject?.reference, `${el}.subject`);
        const visitId = r.identifier?.[0]?.value ?? r.id ?? key;
        const start = ctx.date(r.period?.start, `${el}.period.start`, { required: true, birthDate: patient?.birthDate });
        const end = ctx.date(r.period?.end, `${el}.period.end`, { birthDate: patient?.birthDate });
        if (!patient || !start) continue;
        // A type in a standard system (SNOMED CT, as Synthea sends) is kept as sent; a local one is the department.
        const standardType = r.type?.some((t) => t.coding?.some((c) => isStandardSystem(c.system)));
        const dept = standardType ? undefined : r.type?.[0]?.coding?.[0];
        const reason = r.reasonCode?.filter((c) => c.coding?.some((x) => isStandardSystem(x.system)));
        const enc = encounter(ctx, {
          visitId, patient, cls: (['AMB', 'EMER', 'IMP', 'HH', 'VR'].includes(r.class?.code ?? '') ? r.class.code : 'AMB') as EncounterClass, start, end,
          dept: dept ? { code: dept.code, name: dept.display } : undefined, ...(standardType ? { type: r.type } : {}), ...(reason?.length ? { reason } : {}),
        });
        enc.status = r.status;
        made(e, enc);
        alias(e, `Encounter/${enc.id}`);
        break;
      }
      case 'Condition': {
        const c = r as Condition;
        const patient = await patientOf(c.subject?.reference, `${el}.subject`);
        const code = await recode(ctx, 'diagnosis', c.code, `${el}.code`);
        const recorded = ctx.date(c.recordedDate ?? c.onsetDateTime, `${el}.recordedDate`, { birthDate: patient?.birthDate });
        if (!patient || !code) continue;
        made(e, condition(ctx, { key, patient, encounter: encRef(refs, c.encounter?.reference), code, recorded }));
        break;
      }
      case 'Observation': {
        const o = r as Observation;
        const patient = await patientOf(o.subject?.reference, `${el}.subject`);
        if (!patient) continue;
        const local = chooseCoding(o.code, 'lab');
        const effective = ctx.date(o.effectiveDateTime ?? o.effectivePeriod?.start, `${el}.effectiveDateTime`, { birthDate: patient.birthDate });
        if (keepObservationAsSent(ctx, o, local)) {
          // A LOINC-coded Observation the lab tables cannot rebuild: kept as sent, in the platform's frame (issue 17).
          const code = await ctx.code('lab', { system: local?.system, code: local?.code, display: local?.display ?? o.code.text }, `${el}.code`);
          if (!code) continue;
          const obs = observationAsSent(ctx, {
            key, o, code: withSentCodings(code, o.code), patient, encounter: encRef(refs, o.encounter?.reference), effective,
            observationRef: (ref) => { const t = ref ? refs.get(ref) : undefined; return typeof t === 'string' && t.startsWith('Observation/') ? t : undefined; },
          });
          made(e, obs);
          alias(e, `Observation/${obs.id}`);
          break;
        }
        const value = o.valueQuantity?.value ?? o.valueString ?? o.valueCodeableConcept?.text ?? o.valueCodeableConcept?.coding?.[0]?.display;
        const obs = await quantityObservation(ctx, {
          key, patient, encounter: encRef(refs, o.encounter?.reference), local: { system: local?.system, code: local?.code, display: local?.display ?? o.code.text },
          value, unit: (o.valueQuantity?.system === 'http://unitsofmeasure.org' ? o.valueQuantity.code : undefined) ?? o.valueQuantity?.unit ?? o.valueQuantity?.code, effective,
          flag: o.interpretation?.[0]?.coding?.[0]?.code, referenceRange: o.referenceRange?.[0]?.text, element: `${el}.code`,
        });
        if (obs) {
          made(e, obs);
          alias(e, `Observation/${obs.id}`);
        }
        break;
      }
      case 'DiagnosticReport': {
        const d = r as DiagnosticReport;
        const patient = await patientOf(d.subject?.reference, `${el}.subject`);
        const cat = d.category?.[0]?.coding?.[0]?.code === 'RAD' ? 'RAD' : 'LAB';
        const code = cat === 'RAD' ? await recode(ctx, 'exam', d.code, `${el}.code`) : await panelOrText(ctx, d.code);
        const effective = ctx.date(d.effectiveDateTime, `${el}.effectiveDateTime`, { birthDate: patient?.birthDate });
        const issued = ctx.date(d.issued, `${el}.issued`, { birthDate: patient?.birthDate });
        if (!patient || !code) continue;
        const results = (d.result ?? []).map((x) => refs.get(x.reference ?? '')).filter((x): x is string => typeof x === 'string').map((x) => x.slice('Observation/'.length));
        const findings = d.presentedForm?.[0]?.data ? Buffer.from(d.presentedForm[0].data, 'base64').toString('utf8') : undefined;
        made(e, diagnosticReport(ctx, { key, patient, encounter: encRef(refs, d.encounter?.reference), code, category: cat, results, effective, issued, conclusion: d.conclusion, findings }));
        break;
      }
      case 'MedicationRequest': {
        const m = r as MedicationRequest;
        const patient = await patientOf(m.subject?.reference, `${el}.subject`);
        const drug = chooseCoding(m.medicationCodeableConcept, 'drug');
        const authored = ctx.date(m.authoredOn, `${el}.authoredOn`, { birthDate: patient?.birthDate });
        if (!patient) continue;
        const dosage = m.dosageInstruction?.[0];
        const dose = dosage?.doseAndRate?.[0]?.doseQuantity;
        const mr = await medicationRequest(ctx, {
          key, patient, encounter: encRef(refs, m.encounter?.reference), drug: { system: drug?.system, code: drug?.code, display: drug?.display ?? m.medicationCodeableConcept?.text },
          dose: dose?.value !== undefined ? String(dose.value) : undefined, doseUnit: dose?.unit, route: dosage?.route?.text, authored, element: `${el}.medicationCodeableConcept`, status: m.status,
        });
        if (mr && dosage?.text) mr.dosageInstruction = [{ ...mr.dosageInstruction?.[0], text: dosage.text }];
        if (mr) made(e, mr);
        break;
      }
      case 'Procedure': {
        const p = r as Procedure;
        const patient = await patientOf(p.subject?.reference, `${el}.subject`);
        const performed = ctx.date(p.performedDateTime ?? p.performedPeriod?.start, `${el}.performedDateTime`, { required: true, birthDate: patient?.birthDate });
        const local = chooseCoding(p.code, 'procedure');
        if (!patient || !performed) continue;
        const pr = await procedure(ctx, { key, patient, encounter: encRef(refs, p.encounter?.reference), local: { system: local?.system, code: local?.code, display: local?.display ?? p.code?.text }, performed, element: `${el}.code` });
        if (pr) made(e, pr);
        break;
      }
      case 'Immunization': {
        const im = r as Immunization;
        const patient = await patientOf(im.patient?.reference, `${el}.patient`);
        const date = ctx.date(im.occurrenceDateTime, `${el}.occurrenceDateTime`, { required: true, birthDate: patient?.birthDate });
        const local = chooseCoding(im.vaccineCode, 'vaccine');
        if (!patient || !date) continue;
        const out = await immunization(ctx, { key, patient, encounter: encRef(refs, im.encounter?.reference), local: { system: local?.system, code: local?.code, display: local?.display ?? im.vaccineCode.text }, date, lot: im.lotNumber, dose: String(im.protocolApplied?.[0]?.doseNumberPositiveInt ?? ''), element: `${el}.vaccineCode` });
        if (out) made(e, out);
        break;
      }
      default:
        ctx.fail('unsupported-message', `FHIR ${r.resourceType} is not standardized`, el);
    }
  }
  return produced;
}

function isBundle(b: unknown): b is Bundle {
  return !!b && typeof b === 'object' && (b as Resource).resourceType === 'Bundle';
}

function rank(order: string[], t: string): number {
  const i = order.indexOf(t);
  return i < 0 ? order.length : i;
}

function encRef(refs: Map<string, PatientRef | string>, ref: string | undefined): { reference: string } | undefined {
  const t = ref ? refs.get(ref) : undefined;
  return typeof t === 'string' ? { reference: t } : undefined;
}

async function recode(ctx: UnitContext, kind: 'diagnosis' | 'exam', cc: CodeableConcept | undefined, element: string): Promise<CodeableConcept | undefined> {
  const c = chooseCoding(cc, kind);
  const out = await ctx.code(kind, { system: c?.system, code: c?.code, display: c?.display ?? cc?.text }, element);
  return out && withSentCodings(out, cc);
}

async function panelOrText(ctx: UnitContext, cc: CodeableConcept): Promise<CodeableConcept> {
  const c = chooseCoding(cc, 'panel');
  const r = await ctx.services.mapper.map(ctx.tx, { institutionId: ctx.institutionId, kind: 'panel', system: c?.system, code: c?.code, display: c?.display ?? cc.text });
  if (r.status === 'mapped') return { coding: [r.coding, ...(cc.coding ?? [])], text: cc.text ?? r.coding.display };
  // A standard panel code (a LOINC panel outside the tables) is kept as sent, as is a local one (a report's name).
  return cc;
}

const ID_SYSTEMS = /^urn:oid:2\.16\.156\.10011\.1\.(1|3)$/;

async function fromPatient(ctx: UnitContext, p: Patient, url: string | undefined, el: string): Promise<Patient | undefined> {
  const ids = p.identifier ?? [];
  const typeOf = (i: Identifier) => i.type?.coding?.[0]?.code;
  const resident = ids.find((i) => ID_SYSTEMS.test(i.system ?? '') || typeOf(i) === 'NNCHN' || typeOf(i) === 'NI');
  const passport = ids.find((i) => typeOf(i) === 'PPN' || /passport/i.test(i.system ?? ''));
  const cond = url ? /^Patient\?identifier=(?:[^|]*\|)?(.+)$/.exec(url) : null;
  const mrn = ids.find((i) => typeOf(i) === 'MR')?.value ?? (cond ? decodeURIComponent(cond[1]) : undefined) ?? ids.find((i) => i !== resident && i !== passport)?.value;
  const name = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
  // A Latin-script name (Synthea's "John Smith") is given-first with spaces; a Chinese one is family + given, no space.
  const latin = !name?.text && /^[\p{Script=Latin}\s.'-]+$/u.test([name?.family, ...(name?.given ?? [])].join(''));
  const sex = p.gender === 'male' ? 'M' : p.gender === 'female' ? 'F' : p.gender === 'other' ? 'O' : p.gender ? 'U' : undefined;
  const addr = p.address?.[0];
  return buildPatient(ctx, {
    mrn, name: name?.text ?? (latin ? [...(name?.given ?? []), name?.family].filter(Boolean).join(' ') : [name?.family, ...(name?.given ?? [])].filter(Boolean).join('')),
    ...(latin ? { family: name?.family, given: name?.given?.join(' ') } : {}), sex: sex ? { code: sex, hl7: true } : undefined,
    birthDate: p.birthDate, idType: passport && !resident ? '03' : undefined, idNumber: (resident ?? passport)?.value,
    phone: p.telecom?.find((t) => t.system === 'phone')?.value, address: addr?.text ?? addr?.line?.join(''),
    element: (f) => `${el}.${f === 'mrn' ? 'identifier' : f}`,
  });
}
