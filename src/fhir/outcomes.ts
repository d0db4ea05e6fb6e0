/**
 * The FHIR module's error vocabulary: OperationOutcome is the only error currency across the domain boundary
 * (https://hl7.org/fhir/R4/operationoutcome.html), and `outcomeStatus` is the ONE mapping from an outcome to an HTTP
 * status (https://hl7.org/fhir/R4/http.html#summary). The HTTP layer calls it; nothing else decides a status.
 */
import { getStatus, OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { isTransientConflict } from '../store/index.ts';

export { allOk, badRequest, created, forbidden, gone, notFound, OperationOutcomeError, preconditionFailed } from '@medplum/core';

/** HTTP status for an outcome: 200/201 ok, 400 structure, 403, 404, 410 deleted, 412, 422 rule violation, 500. */
export function outcomeStatus(outcome: OperationOutcome): number {
  return getStatus(outcome);
}

/** 422 Unprocessable Entity: the resource parses but violates a rule of the specification or of this server. */
export function unprocessable(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', id: 'business-rule', issue: issues };
}

/** 400 with several issues (e.g. every structural problem the validator found). */
export function invalid(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

/** 412 with a reason (If-Match mismatch, ambiguous conditional match). */
export function precondition(text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', id: 'precondition-failed', issue: [{ severity: 'error', code: 'processing', details: { text } }] };
}

/** 404 naming what was not found. */
export function notFoundText(text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', id: 'not-found', issue: [{ severity: 'error', code: 'not-found', details: { text } }] };
}

/** 403 naming the scope that is missing. */
export function forbiddenText(text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', id: 'forbidden', issue: [{ severity: 'error', code: 'forbidden', details: { text } }] };
}

/** 405-like "not supported" answered as 400 (FHIR lists not-supported as an issue code, not a status). */
export function notSupported(text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported', details: { text } }] };
}

/** An information outcome with a fixed id, so `outcomeStatus` answers 200 / 201. */
export function ok(text = 'All OK'): OperationOutcome {
  return { resourceType: 'OperationOutcome', id: 'ok', issue: [{ severity: 'information', code: 'informational', details: { text } }] };
}

/** Throws the outcome as an error; the router turns it back into a response. */
export function fail(outcome: OperationOutcome): never {
  throw new OperationOutcomeError(outcome);
}

/** Any thrown value as an outcome (unknown errors become 500 `exception`, with no stack trace leaked). */
export function toOutcome(err: unknown): OperationOutcome {
  if (err instanceof OperationOutcomeError) return err.outcome;
  // A deadlock or serialization failure between concurrent writers is transient: 409, the client retries.
  if (isTransientConflict(err)) {
    return { resourceType: 'OperationOutcome', id: 'conflict', issue: [{ severity: 'error', code: 'transient', details: { text: 'Concurrent update conflict; retry the request' } }] };
  }
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'exception', details: { text: 'Internal server error' } }],
  };
}
