import assert from 'node:assert/strict';
import { test } from 'node:test';
import { feedStatus } from './feed-status.ts';

test('calls a feed late after 6 hours of silence and silent after 48 or when it never sent', () => {
  const now = new Date('2026-11-22T09:00:00+08:00');
  assert.equal(feedStatus('2026-11-22T08:00:00+08:00', now), 'ok');
  assert.equal(feedStatus('2026-11-21T23:30:00+08:00', now), 'late');
  assert.equal(feedStatus('2026-11-19T23:30:00+08:00', now), 'silent');
  assert.equal(feedStatus(undefined, now), 'silent');
});
