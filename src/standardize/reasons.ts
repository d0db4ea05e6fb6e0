import type { QuarantineReason } from '../ingest/types.ts';

/**
 * The catalogue of quarantine reasons standardization gives (issue 4: "quarantine with machine-readable reasons").
 * Codes are stable — operators filter and reprocess by them — so add, never rename. Every code is documented in
 * docs/STANDARDIZATION.md (a test checks it).
 */
export const REASONS = {
  'unparseable': 'The unit cannot be parsed in its declared format (HL7 v2 structure, CSV row, JSON).',
  'unsupported-message': 'An HL7 message type/trigger or a FHIR resource type that standardization does not handle.',
  'unknown-table': 'A CSV row of a core table that the core-table dictionary does not define.',
  'missing-required': 'A field the core table (or the HL7 segment) requires is empty.',
  'invalid-date': 'A date or time that is not a real calendar date/time in any accepted format.',
  'implausible-date': 'A date before 1900, in the future, or before the patient\'s birth.',
  'invalid-resident-id': 'A resident ID (GB 11643) whose structure, date or check digit is wrong, on a record that cannot be held as unverified.',
  'unmapped-code': 'A local code with no map to the standard code system; the operator confirms a mapping, then the unit is reprocessed.',
  'unknown-patient': 'A clinical record for a local patient id (MRN) that the institution has not registered yet; reprocessed when the patient arrives.',
  'value-not-numeric': 'A quantitative result whose value is not a number.',
  'value-out-of-range': 'A value that is physiologically impossible for its LOINC code (after unit conversion).',
  'unit-unknown': 'A unit that is neither UCUM nor a known local spelling.',
  'unit-incompatible': 'A unit of the wrong dimension for its LOINC code (cannot be converted to the canonical unit).',
  'invalid-resource': 'The produced or received FHIR resource fails FHIR R4 validation.',
} as const;

export type ReasonCode = keyof typeof REASONS;

/**
 * Reasons the platform resolves itself, without the sender sending again (issue 17): a map an operator confirms, a
 * patient who arrives. A FHIR Bundle held for these only is accepted (202) and completes when they are resolved;
 * any other reason is the sender's to fix (422).
 */
export const HOLDABLE: ReadonlySet<string> = new Set<ReasonCode>(['unmapped-code', 'unknown-patient']);

/** True when every reason is one the platform resolves itself (HOLDABLE). */
export function onlyHeld(reasons: ReadonlyArray<{ code: string }>): boolean {
  return reasons.length > 0 && reasons.every((r) => HOLDABLE.has(r.code));
}

/** A quarantine reason with optional machine-readable context, stored in landed_unit.reasons (JSON). */
export interface StdReason extends QuarantineReason {
  code: ReasonCode;
  /** For `unmapped-code`: the local code, so a confirmation requeues exactly the units it fixes. */
  local?: { system: string; code: string; display?: string; target?: string };
  /** For `unknown-patient`: the institution's local patient id, so the patient's arrival requeues its records. */
  patient?: { mrn: string };
}

export function reason(code: ReasonCode, detail?: string, element?: string, extra?: Partial<StdReason>): StdReason {
  return { code, ...(detail ? { detail } : {}), ...(element ? { element } : {}), ...extra };
}

/** Warnings kept on the resource rather than quarantining it (the "nothing is lost, err toward review" rules). */
export const WARNINGS = {
  'resident-id-unverified': 'The resident ID fails its GB 11643 check; kept as an identifier marked unverified, not used for matching by ID.',
  'sex-unmapped': 'The sex code is not GB/T 2261.1 and has no map; gender left unknown.',
} as const;
