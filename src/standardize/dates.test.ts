import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDate, parseDate } from './dates.ts';

test('reads the date forms county systems write, local times as China Standard Time', () => {
  assert.equal(parseDate('2024-03-05')?.dateTime, '2024-03-05');
  assert.equal(parseDate('2024/3/5 8:30')?.dateTime, '2024-03-05T08:30:00+08:00');
  assert.equal(parseDate('2024年3月5日')?.date, '2024-03-05');
  assert.equal(parseDate('20240305083000')?.dateTime, '2024-03-05T08:30:00+08:00');
  assert.equal(parseDate('202403050830+0000')?.dateTime, '2024-03-05T08:30:00+00:00');
  assert.equal(parseDate('2024-03-05T08:30:00Z')?.dateTime, '2024-03-05T08:30:00Z');
  assert.equal(parseDate('２０２４－０３－０５')?.date, '2024-03-05');
});

test('rejects dates that are not on the calendar', () => {
  for (const bad of ['2024-02-30', '2023-02-29', '2024-13-01', '20240305256000', 'yesterday', '']) assert.equal(parseDate(bad), undefined, bad);
  assert.equal(parseDate('2024-02-29')?.date, '2024-02-29');
});

test('flags dates before 1900, in the future, or before the birth date, but not a visit on the day of birth', () => {
  const now = new Date('2025-06-01T00:00:00Z');
  assert.deepEqual([checkDate('1899-12-31', 'x', now)].map((r) => 'code' in r && r.code), ['implausible-date']);
  assert.deepEqual([checkDate('2025-07-01', 'x', now)].map((r) => 'code' in r && r.code), ['implausible-date']);
  assert.deepEqual([checkDate('2020-01-01', 'x', now, '2020-01-02')].map((r) => 'code' in r && r.code), ['implausible-date']);
  assert.ok('date' in checkDate('2020-01-02 09:00', 'x', now, '2020-01-02'));
  assert.deepEqual([checkDate('2020-02-30', 'x', now)].map((r) => 'code' in r && r.code), ['invalid-date']);
});
