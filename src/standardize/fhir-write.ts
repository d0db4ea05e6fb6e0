import type { OperationOutcome, OperationOutcomeIssue, Patient, Resource } from '@medplum/fhirtypes';
// The FHIR module's set-based write path (not in its index.ts: only ingestion writes inside someone else's transaction).
import { applyWrites, type WriteResult } from '../fhir/write.ts';
import type { LandedUnit } from '../ingest/index.ts';
import type { Queryable } from '../store/index.ts';
import { UnitContext, type StandardizeServices } from './context.ts';
import { standardizeFhir } from './fhir-bundle.ts';
import type { StdReason } from './reasons.ts';
import { finishUnit } from './standardizer.ts';
import { unchangedPatients } from './unchanged.ts';

/** A FHIR unit standardized and written: per Bundle entry, the stored version it became (none for Organization …). */
export type FhirUnitResult =
  | { standardized: true; entries: Array<WriteResult | undefined>; notes: Array<{ element: string; text: string }> }
  | { standardized: false; reasons: StdReason[] };

/**
 * The FHIR channel's synchronous standardization (issue 4): a landed Bundle the HTTP layer has already parsed goes
 * through the very path the worker runs for every channel — R4 validation, local codes recoded through the
 * institution's maps, UCUM, dates, referential integrity (`standardizeFhir`), holds / patient register / EMPI seam
 * (`finishUnit`) — and, if it standardizes, its resources are written to the FHIR store in the caller's transaction
 * (`writeStandardized`), so the unit's status, its resources and its EMPI links commit together.
 */
export async function standardizeAndWrite(services: StandardizeServices, unit: LandedUnit, tx: Queryable, parsed: unknown, now: Date): Promise<FhirUnitResult> {
  const ctx = new UnitContext(tx, unit, services, new Map());
  const produced = await standardizeFhir(ctx, parsed);
  if (ctx.reasons.length) {
    const r = await finishUnit(ctx); // holds the unit by what it waits for (a patient, a code's mapping)
    return { standardized: false, reasons: ('quarantine' in r ? r.quarantine : ctx.reasons) as StdReason[] };
  }
  // A returning patient's Patient usually comes again unchanged with every visit: keep its current version (no new
  // version, no second match — it was matched when that version was standardized) and write only what is new.
  const same = await unchangedPatients(tx, ctx.resources);
  const toWrite = same.size ? ctx.resources.filter((r) => !same.has(`${r.resourceType}/${r.id}`)) : ctx.resources;
  if (same.size) ctx.patientsToMatch.splice(0, ctx.patientsToMatch.length, ...ctx.patientsToMatch.filter((p) => !same.has(`Patient/${p.id}`)));
  const results = await writeStandardized(tx, toWrite, now, unit.institutionId);
  const byRef = new Map<string, WriteResult>([...same.values()].map((w) => [`Patient/${w.resource!.id}`, w]));
  toWrite.forEach((r, i) => byRef.set(`${r.resourceType}/${r.id}`, results[i]));
  if (ctx.patientsToMatch.length > 1) {
    // A Bundle may carry many Patients. The EMPI locks each one's blocking keys as it matches it, and two concurrent
    // Bundles taking their patients' keys in different orders would deadlock: take all of them first, in the EMPI's
    // global order, and match the patients by name (the per-name counter rows are then updated in one order too).
    ctx.patientsToMatch.sort((a, b) => nameOf(a).localeCompare(nameOf(b)) || (a.id ?? '').localeCompare(b.id ?? ''));
    // (The EMPI's batch form, when there, takes them itself, before its one read.)
    if (!services.matchPatients) await services.lockPatients?.(tx, ctx.patientsToMatch.map((patient) => ({ patient, institutionId: unit.institutionId })));
  }
  await finishUnit(ctx);
  return { standardized: true, entries: produced.map((ref) => (ref ? byRef.get(ref) : undefined)), notes: ctx.notes };
}

const nameOf = (p: Patient): string => p.name?.[0]?.text ?? '';

/**
 * Writes standardized resources as updates by their stable ids (update-as-create), set-based: a resend or a
 * reprocess makes a new version, never a second resource. One multi-row statement per table (src/fhir/write.ts).
 */
export function writeStandardized(tx: Queryable, resources: Resource[], now: Date, institutionId: string): Promise<WriteResult[]> {
  return applyWrites(tx, resources.map((resource) => ({ method: 'update', resourceType: resource.resourceType, id: resource.id as string, resource })), now, institutionId);
}

/** Where the machine-readable quarantine reason code travels in an OperationOutcome issue (`details.coding`). */
export const REASON_SYSTEM = 'https://healthbrain.cn/fhir/CodeSystem/quarantine-reason';

const ISSUE_TYPE: Record<string, OperationOutcomeIssue['code']> = {
  'unparseable': 'structure', 'unsupported-message': 'not-supported', 'missing-required': 'required', 'invalid-date': 'value',
  'implausible-date': 'business-rule', 'invalid-resident-id': 'value', 'unmapped-code': 'code-invalid', 'unknown-patient': 'not-found',
  'value-not-numeric': 'value', 'value-out-of-range': 'business-rule', 'unit-unknown': 'code-invalid', 'unit-incompatible': 'business-rule',
  'invalid-resource': 'invalid',
};

/**
 * The answer to a quarantined FHIR unit: HTTP 422 (OperationOutcome id `business-rule`), one error issue per reason —
 * the reason code in `details.coding` (REASON_SYSTEM), its detail as text, the FHIRPath of the element in
 * `expression` — plus an informational issue naming the landed unit, which is kept and reprocessed after a fix.
 */
export function quarantineOutcome(reasons: Array<{ code: string; detail?: string; element?: string }>, unitId: number, note?: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome', id: 'business-rule',
    issue: [
      ...reasons.map((r): OperationOutcomeIssue => ({
        severity: 'error', code: ISSUE_TYPE[r.code] ?? 'processing',
        details: { coding: [{ system: REASON_SYSTEM, code: r.code }], ...(r.detail ? { text: r.detail } : {}) },
        ...(r.element && /^(Bundle|[A-Z][A-Za-z]+)(\.|\[|$)/.test(r.element) ? { expression: [r.element] } : {}),
      })),
      {
        severity: 'information', code: 'informational',
        details: { text: note ?? `quarantined as landed unit ${unitId}: kept, and standardized again once the reasons are fixed (mapping confirmed, patient registered) or on reprocess` },
      },
    ],
  };
}

/** The Bundle entry a FHIRPath from the Bundle names (`Bundle.entry[3].resource.code` → 3), if any. */
export function entryIndex(element: string | undefined): number | undefined {
  const m = element ? /^Bundle\.entry\[(\d+)\]/.exec(element) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * The answer to a FHIR unit held for reasons the platform resolves itself only (HOLDABLE: local codes waiting for a
 * map, patients not registered yet; issue 17): **202 Accepted** (OperationOutcome id `accepted`), the unit kept whole
 * — a transaction is all-or-nothing (https://hl7.org/fhir/R4/http.html#transaction) and a Bundle's entries reference
 * each other — and one warning issue per waiting entry saying exactly what it waits for (its FHIRPath in
 * `expression`, the reason code in `details.coding`), then an informational issue naming the unit, its status URL and
 * how it is released. It is stored, and the status URL answers 200, once the maps are confirmed or the patients arrive.
 */
export function heldOutcome(reasons: StdReason[], unitId: number, statusUrl: string | undefined, note?: string): OperationOutcome {
  const waits = (r: StdReason): string => {
    const at = entryIndex(r.element);
    const who = at === undefined ? 'the Bundle' : `entry ${at}`;
    if (r.code === 'unmapped-code' && r.local) {
      return `${who} waits for a map of ${r.local.system}|${r.local.code}${r.local.display ? ` (${r.local.display})` : ''} to ${r.local.target ?? 'the standard system'}`;
    }
    if (r.code === 'unknown-patient' && r.patient) return `${who} waits for the patient ${r.patient.mrn} to be registered`;
    return `${who}: ${r.detail ?? r.code}`;
  };
  return {
    resourceType: 'OperationOutcome', id: 'accepted',
    issue: [
      ...reasons.map((r): OperationOutcomeIssue => ({
        severity: 'warning', code: ISSUE_TYPE[r.code] ?? 'processing',
        details: { coding: [{ system: REASON_SYSTEM, code: r.code }], text: waits(r) },
        ...(r.element && /^(Bundle|[A-Z][A-Za-z]+)(\.|\[|$)/.test(r.element) ? { expression: [r.element] } : {}),
      })),
      {
        severity: 'information', code: 'informational',
        details: {
          text: note ?? `accepted and held whole as landed unit ${unitId}: stored once the maps are confirmed (healthbrain terminology confirm) or the patients registered${statusUrl ? ` — poll ${statusUrl}` : ''}`,
        },
        ...(statusUrl ? { diagnostics: statusUrl } : {}),
      },
    ],
  };
}
