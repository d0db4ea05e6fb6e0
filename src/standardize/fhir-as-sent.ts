import type { CodeableConcept, Coding, Encounter, Observation, ObservationComponent, Quantity, Reference } from '@medplum/fhirtypes';
import { isStandardSystem, SYSTEMS, TARGET_SYSTEM, toUcum, type LocalKind } from '../terminology/index.ts';
import type { PatientRef, UnitContext } from './context.ts';
import type { ParsedDate } from './dates.ts';

/**
 * FHIR codings sent in standard code systems (issue 17): which coding of a CodeableConcept standardization works
 * from, and an Observation kept as the sender coded it when the platform's lab tables cannot rebuild it (a LOINC code
 * outside the loaded tables, a panel with components, a coded or text value).
 */

/**
 * The coding to standardize a CodeableConcept by: one in the kind's target system, else one in any standard system,
 * else the first (a local code, mapped through the institution's ConceptMap).
 */
export function chooseCoding(cc: CodeableConcept | undefined, kind: LocalKind): Coding | undefined {
  const codings = (cc?.coding ?? []).filter((c) => c.code?.trim());
  const target = TARGET_SYSTEM[kind];
  return codings.find((c) => c.system === target) ?? codings.find((c) => isStandardSystem(c.system)) ?? cc?.coding?.[0];
}

/** The standardized CodeableConcept with the sender's other codings (alternative codes of the same concept) kept after. */
export function withSentCodings(out: CodeableConcept, sent: CodeableConcept | undefined): CodeableConcept {
  const have = new Set((out.coding ?? []).map((c) => `${c.system}|${c.code}`));
  const more = (sent?.coding ?? []).filter((c) => c.code && !have.has(`${c.system}|${c.code}`)).map((c) => ({ ...(c.system ? { system: c.system } : {}), code: c.code, ...(c.display ? { display: c.display } : {}) }));
  return more.length ? { ...out, coding: [...(out.coding ?? []), ...more] } : out;
}

/** True when an Observation coded in LOINC is to be kept as sent rather than rebuilt by the lab-item builder. */
export function keepObservationAsSent(ctx: UnitContext, o: Observation, coding: Coding | undefined): boolean {
  if (coding?.system !== SYSTEMS.loinc || !coding.code) return false;
  const c = ctx.terminology.lookup(SYSTEMS.loinc, coding.code);
  if (!c || o.component?.length) return true;
  const quantitative = c.properties.unit !== undefined || c.properties.category === 'laboratory-ord';
  return !quantitative || (o.valueQuantity === undefined && o.valueString === undefined && o.valueCodeableConcept === undefined);
}

/** A Quantity as sent; its unit code kept as UCUM only when it is valid UCUM (otherwise the unit text alone). */
export function ucumQuantity(q: Quantity): Quantity {
  const unitCode = q.code ?? q.unit;
  const ucum = unitCode ? toUcum(unitCode) : undefined;
  return {
    ...(q.value !== undefined ? { value: q.value } : {}), ...(q.comparator ? { comparator: q.comparator } : {}),
    ...(q.unit ?? unitCode ? { unit: q.unit ?? unitCode } : {}), ...(ucum ? { system: SYSTEMS.ucum, code: ucum } : {}),
  };
}

const VALUE_KEYS = ['valueQuantity', 'valueCodeableConcept', 'valueString', 'valueBoolean', 'valueInteger', 'valueRange', 'valueRatio', 'valueTime', 'valueDateTime', 'valuePeriod'] as const;

function values<T extends Observation | ObservationComponent>(src: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const k of VALUE_KEYS) if (src[k as keyof T] !== undefined) out[k] = k === 'valueQuantity' ? ucumQuantity(src.valueQuantity!) : src[k as keyof T];
  if (src.dataAbsentReason) out.dataAbsentReason = src.dataAbsentReason;
  return out as Partial<T>;
}

/**
 * The sender's Observation in the platform's frame: its id from the source keys, lineage, the institution's
 * Patient, Encounter and Organization; code (the standardized one), category, value, components (their codes kept
 * as sent — standard LOINC) and interpretation as sent. Members and sources (`hasMember`, `derivedFrom`) are
 * re-pointed to this Bundle's Observations, or dropped when they are not in it.
 */
export function observationAsSent(
  ctx: UnitContext,
  f: { key: string; o: Observation; code: CodeableConcept; patient: PatientRef; encounter?: Reference<Encounter>; effective?: ParsedDate; observationRef: (ref: string | undefined) => string | undefined },
): Observation {
  const { o } = f;
  const related = (refs: Reference[] | undefined) => (refs ?? []).flatMap((r) => {
    const to = f.observationRef(r.reference);
    return to ? [{ reference: to }] : [];
  });
  const members = related(o.hasMember);
  const derived = related(o.derivedFrom);
  return {
    ...ctx.frame('Observation', f.key),
    status: o.status,
    ...(o.category?.length ? { category: o.category } : {}),
    code: f.code,
    subject: { reference: f.patient.reference },
    ...(f.encounter ? { encounter: f.encounter } : {}),
    ...(f.effective ? { effectiveDateTime: f.effective.dateTime } : {}),
    ...(o.issued ? { issued: o.issued } : {}),
    performer: [ctx.org()],
    ...values(o),
    ...(o.interpretation?.length ? { interpretation: o.interpretation } : {}),
    ...(o.referenceRange?.length ? { referenceRange: o.referenceRange } : {}),
    ...(members.length ? { hasMember: members } : {}),
    ...(derived.length ? { derivedFrom: derived } : {}),
    ...(o.component?.length ? { component: o.component.map((c) => ({ code: c.code, ...values(c), ...(c.interpretation ? { interpretation: c.interpretation } : {}) })) } : {}),
  };
}

/**
 * Patient-compartment types standardization has no builder for, kept as sent (issue 17: a Synthea patient's Claims,
 * ExplanationOfBenefits, CarePlans … are part of the record): the element naming their Patient.
 */
export const KEPT_AS_SENT: Readonly<Record<string, string>> = {
  Claim: 'patient', ExplanationOfBenefit: 'patient', Coverage: 'beneficiary', CarePlan: 'subject', CareTeam: 'subject', Goal: 'subject',
  AllergyIntolerance: 'patient', DocumentReference: 'subject', ImagingStudy: 'subject', Device: 'patient', SupplyDelivery: 'patient',
  MedicationAdministration: 'subject', MedicationStatement: 'subject', FamilyMemberHistory: 'patient', ServiceRequest: 'subject',
};

/**
 * Not stored, as the sender's Organization/Practitioner are not: a Provenance (the platform's lineage is
 * meta.source) and a Medication (the shared catalogue is the platform's, codes travel in the requests).
 */
export const NOT_STORED_TYPES: ReadonlySet<string> = new Set(['Organization', 'Practitioner', 'PractitionerRole', 'Location', 'Provenance', 'Medication']);

/**
 * A resource of KEPT_AS_SENT in the platform's frame: its id from the source keys, lineage and institution tag, its
 * Patient the institution's; every reference re-pointed — to what this Bundle's entries became, the Patient, the
 * institution's Organization — or, to what is not stored (a Practitioner, a Location), kept as its display only;
 * references to contained resources (`#id`) as they are. The sender's narrative is dropped (it names its own ids).
 */
export function resourceAsSent<T extends { resourceType: string }>(
  ctx: UnitContext, r: T, key: string, patient: PatientRef, target: (ref: string) => string | PatientRef | undefined,
): T {
  const rewrite = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(rewrite);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = k === 'contained' ? x : rewrite(x);
    if (typeof o.reference === 'string' && !o.reference.startsWith('#')) {
      const ref = o.reference;
      const t = target(ref);
      delete out.reference;
      if (t) out.reference = typeof t === 'string' ? t : t.reference;
      else if (/^Patient[/?]/.test(ref)) out.reference = patient.reference;
      else if (/^Organization[/?]/.test(ref)) Object.assign(out, ctx.org());
      else if (!out.display) out.display = `${ref.split(/[/?]/)[0]} (not stored)`;
    }
    return out;
  };
  const { id: _id, meta: _meta, text: _text, ...rest } = r as T & { id?: string; meta?: unknown; text?: unknown };
  return { ...(rewrite(rest) as T), ...ctx.frame(r.resourceType as 'Claim', key), [KEPT_AS_SENT[r.resourceType]]: { reference: patient.reference } };
}
