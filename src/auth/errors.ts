import type { OperationOutcome } from '@medplum/fhirtypes';

/**
 * An authentication (401) or authorization (403) failure, carrying its OperationOutcome. The issue codes are FHIR's
 * IssueType: `login` ("the client needs to initiate an authentication process") and `forbidden`.
 */
export class AuthError extends Error {
  readonly status: 401 | 403;
  readonly outcome: OperationOutcome;
  constructor(status: 401 | 403, message: string) {
    super(message);
    this.status = status;
    this.outcome = authOutcome(status, message);
  }
}

export function authOutcome(status: 401 | 403, message: string): OperationOutcome {
  // Ids as @medplum/core's `unauthorized` / `forbidden`, so the FHIR module's one status mapping agrees.
  return {
    resourceType: 'OperationOutcome',
    id: status === 401 ? 'unauthorized' : 'forbidden',
    issue: [{ severity: 'error', code: status === 401 ? 'login' : 'forbidden', details: { text: message } }],
  };
}
