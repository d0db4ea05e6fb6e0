import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ageOn, formatDateTime } from './dates.ts';

test('counts full years of age, the day before a birthday included', () => {
  const today = new Date('2026-11-22T00:00:00Z');
  assert.equal(ageOn('1958-11-22', today), 68);
  assert.equal(ageOn('1958-11-23', today), 67);
  assert.equal(ageOn(undefined, today), undefined);
});

test('shows date-times in China Standard Time', () => {
  assert.equal(formatDateTime('2026-03-05T06:20:00Z'), '2026-03-05 14:20');
  assert.equal(formatDateTime('2026-03-05'), '2026-03-05');
});
