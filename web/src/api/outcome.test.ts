import assert from 'node:assert/strict';
import { test } from 'node:test';
import { offersBreakGlass, outcomeCode, outcomeText } from './outcome.ts';

test('offers break-the-glass only for a 403 with the no-care-relationship code', () => {
  const outcome = {
    resourceType: 'OperationOutcome' as const,
    issue: [{ severity: 'error' as const, code: 'forbidden' as const, details: { coding: [{ code: 'no-care-relationship' }], text: 'No care relationship' } }],
  };
  assert.equal(outcomeCode(outcome), 'no-care-relationship');
  assert.equal(outcomeText(outcome), 'No care relationship');
  assert.equal(offersBreakGlass(403, outcomeCode(outcome)), true);
  assert.equal(offersBreakGlass(403, 'not-self'), false);
  assert.equal(offersBreakGlass(404, 'no-care-relationship'), false);
});
