import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createDemoRoutes } from './demo-routes.ts';
import { routePlugins } from './routes.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

let demo: TestPlatform;
let plain: TestPlatform;
let hospital: { id: string; code: string };

before(async () => {
  // The institution must exist before demo-users resolves it, so the demo platform reuses the plain one's database.
  plain = await openTestPlatform();
  hospital = await plain.addInstitution('演示县人民医院');
  demo = await openTestPlatform({
    db: plain.deps.db,
    plugins: [...routePlugins, createDemoRoutes([
      { role: 'clinician', name: '周志明', user: 'zhouzm', institution: hospital.code },
      { role: 'resident', name: '王建国', user: 'wangjg', personId: 'p-1' },
    ])],
  });
});
after(async () => {
  await demo.close();
  await plain.close();
});

test('a normal server has no demo sign-in', async () => {
  assert.equal((await plain.app.inject({ method: 'POST', url: '/auth/demo-login', payload: { role: 'clinician' } })).statusCode, 404);
});

test('lists demo users with their institution', async () => {
  const res = await demo.app.inject({ url: '/auth/demo-users' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json()[0], { role: 'clinician', name: '周志明', institution: { id: hospital.id, name: '演示县人民医院' } });
});

test('signs in a demo clinician with a verifiable token for their institution', async () => {
  const res = await demo.app.inject({ method: 'POST', url: '/auth/demo-login', payload: { role: 'clinician' } });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.equal(body.user.name, '周志明');
  assert.equal(body.user.institution.id, hospital.id);
  const actor = await demo.deps.auth.verify(body.access_token);
  assert.equal(actor.role, 'clinician');
  assert.equal(actor.institutionId, hospital.id);
});

test('refuses a role that is not a person role', async () => {
  assert.equal((await demo.app.inject({ method: 'POST', url: '/auth/demo-login', payload: { role: 'admin' } })).statusCode, 400);
});
