/**
 * Standardization (issue 4): landed units (HL7 v2, core-table CSV rows, FHIR Bundles) → canonical FHIR R4 resources
 * with standard codes and units, or quarantine with machine-readable reasons. Implements src/ingest's `Standardizer`.
 */
export { createStandardizer, openStandardization, PatientArrivedMeanwhile } from './standardizer.ts';
export { empiHooks } from './empi-seam.ts';
export { StandardizationRuntime } from './runtime.ts';
export { entryIndex, heldOutcome, quarantineOutcome, REASON_SYSTEM, standardizeAndWrite, writeStandardized, type FhirUnitResult } from './fhir-write.ts';
export { UnitContext, type StandardizeServices, type PatientRef } from './context.ts';
export { HOLDABLE, onlyHeld, REASONS, WARNINGS, type ReasonCode, type StdReason } from './reasons.ts';
export { parseDate, checkDate, type ParsedDate } from './dates.ts';
export { stableId, mrnSystem, organizationId, EXT } from './ids.ts';
export { RESIDENT_ID_SYSTEM, chineseName } from './patient.ts';
