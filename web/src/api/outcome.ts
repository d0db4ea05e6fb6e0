import type { OperationOutcome } from '@medplum/fhirtypes';
import { NO_CARE_RELATIONSHIP } from '../../../src/record/summary-types.ts';

/** The first detail code of an OperationOutcome (e.g. `no-care-relationship`). */
export function outcomeCode(outcome: OperationOutcome | undefined): string | undefined {
  return outcome?.issue?.[0]?.details?.coding?.[0]?.code;
}

/** Human text of an OperationOutcome: details.text, else diagnostics. */
export function outcomeText(outcome: OperationOutcome | undefined): string | undefined {
  const issue = outcome?.issue?.[0];
  return issue?.details?.text ?? issue?.diagnostics;
}

/** Whether a 403 is the "no care relationship" refusal, for which the viewer offers break-the-glass. */
export function offersBreakGlass(status: number, code: string | undefined): boolean {
  return status === 403 && code === NO_CARE_RELATIONSHIP;
}
