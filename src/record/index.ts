/**
 * The shared record (issue 6, 共享调阅): the record summary and Patient/$everything of a person across every
 * institution, the patient search, the region overview — behind the access rules (src/access) and audited
 * (src/audit). The API contract is docs/RECORD-API.md with the types in summary-types.ts.
 */
export { getRecordSummary, openRecord, type ReadAsk, type RecordDeps } from './summary.ts';
export { everythingOperation } from './everything.ts';
export { recordAccessRule } from './fhir-access.ts';
export { guessBy, searchPatients } from './patients.ts';
export { regionOverview } from './overview.ts';
export { recordDepsFor, recordFhirExtension } from './services.ts';
export { labSeries, type RawPoint } from './labs.ts';
export type * from './summary-types.ts';
export { ACCESS_OUTCOME_SYSTEM, NO_CARE_RELATIONSHIP } from './summary-types.ts';
