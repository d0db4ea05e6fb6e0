/**
 * The FHIR R4 domain: resource store, search, bundles, validation and the REST router without HTTP.
 * The HTTP layer uses: createFhirServices, handleFhirRequest, buildCapabilityStatement, outcomeStatus.
 */
export type { Actor, FhirRequest, FhirResponse, RequestContext, Role } from './context.ts';
export { createFhirServices, type FhirServices, type OperationHandler, type OperationRegistration, type OperationTarget } from './services.ts';
export { handleFhirRequest, versionHeaders } from './router.ts';
export { buildCapabilityStatement } from './capability.ts';
export { outcomeStatus, toOutcome } from './outcomes.ts';
export { checkAccess, mergeGrants, scopeAllows, type AccessGrant, type AccessRequest, type AccessRule, type Interaction } from './access.ts';
export { FhirRepository, type Clock, type WriteContext, type WriteOutcome } from './repository.ts';
export { validateIncoming } from './validate.ts';
export { extractColumns, parseReference, patientKeyOf } from './extract.ts';
export { cryptoOf, isProtectedIdentifier, openResource } from './protect.ts';
export { tableFor } from './tables.ts';
