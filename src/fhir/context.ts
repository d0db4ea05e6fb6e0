import type { OperationOutcome, Resource } from '@medplum/fhirtypes';

/**
 * The roles a person's token can carry (issue 2); institutions act as `system`. `exporter` (issue 10): region-wide
 * bulk reads and system-wide history — the explicit, audited export role (src/access/decide-request.ts).
 */
export type Role = 'operator' | 'clinician' | 'resident' | 'manager' | 'researcher' | 'auditor' | 'exporter' | 'admin';

/**
 * Who is asking. Built by the auth layer from a verified token and passed into every domain call, so that access
 * rules (scopes now, relationship/purpose/consent later) are decided in the domain, never only in HTTP.
 */
export interface Actor {
  kind: 'system' | 'user';
  /** Token subject: client id for systems, user id for people. */
  subject: string;
  /** Institution the actor belongs to (systems always; users when they work at one). */
  institutionId?: string;
  role?: Role;
  /** SMART-style scopes, e.g. `system/*.write`, `user/Patient.read`. */
  scopes: string[];
  /** Declared purpose of use (e.g. TREAT, ETREAT for break-the-glass), when given. */
  purposeOfUse?: string;
  /** The stated reason that goes with a break-the-glass purpose (ETREAT), when given. */
  purposeReason?: string;
}

export interface RequestContext {
  actor: Actor;
  /** Base URL the client used, for absolute links (`next`, `fullUrl`, Location). */
  baseUrl: string;
  /** Request id for logs and audit. */
  requestId?: string;
}

/** A FHIR REST request with no HTTP in it: the HTTP layer builds one, the FHIR router answers it. */
export interface FhirRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the FHIR base, without leading slash: '', 'Patient', 'Patient/123/_history/2', 'Patient/$match'. */
  path: string;
  /** Query parameters in order, repeated names kept. */
  query: Array<[string, string]>;
  body?: unknown;
  /** Lower-cased header names: if-match, if-none-exist, if-none-match, prefer … */
  headers: Record<string, string | undefined>;
}

/** The answer: an outcome (decides the status) and, usually, a resource. Errors are outcomes, never stack traces. */
export interface FhirResponse {
  outcome: OperationOutcome;
  resource?: Resource;
  /** Extra headers: ETag, Location, Last-Modified, Content-Location. */
  headers?: Record<string, string>;
}
