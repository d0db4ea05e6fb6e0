import assert from 'node:assert/strict';
import { test } from 'node:test';
import { homeRoute, parseRoute, routeHref } from './route.ts';

test('parses and renders hash routes both ways', () => {
  assert.deepEqual(parseRoute('#/record/p-1'), { page: 'record', personId: 'p-1' });
  assert.deepEqual(parseRoute('#/search?q=%E7%8E%8B'), { page: 'search', q: '王' });
  assert.deepEqual(parseRoute(''), { page: 'login' });
  assert.equal(routeHref({ page: 'audit', patient: 'p-1' }), '#/audit?patient=p-1');
});

test('sends each role to its home page, a resident to their own record', () => {
  assert.deepEqual(homeRoute({ subject: 'r', name: 'r', role: 'resident', personId: 'p-9' }), { page: 'record', personId: 'p-9' });
  assert.deepEqual(homeRoute({ subject: 'o', name: 'o', role: 'operator' }), { page: 'overview' });
  assert.deepEqual(homeRoute({ subject: 'a', name: 'a', role: 'auditor' }), { page: 'audit' });
  assert.deepEqual(homeRoute({ subject: 'c', name: 'c', role: 'clinician' }), { page: 'search' });
});
