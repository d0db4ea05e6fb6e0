import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import iconv from 'iconv-lite';
import { csvInput, asLanded } from '../standardize/test-support.ts';
import { standardizationFor } from './standardization-runtime.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

describe(`terminology operator routes on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let admin: string;
  let inst: Awaited<ReturnType<TestPlatform['addInstitution']>>;
  const get = (url: string, token = admin) => p.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    p = await openTestPlatform();
    admin = await p.adminToken();
    inst = await p.addInstitution('县人民医院');
  });
  after(() => p.close());

  it('lists an unmapped local code with suggestions and confirms it, which the worker\'s standardizer then uses', async () => {
    const runtime = standardizationFor(p.deps);
    const dx = { org_code: inst.id, record_id: 'DX1', patient_local_id: 'M1', visit_id: 'V1', diagnosis_time: '2024-03-05 10:00', local_code: 'ZD9', local_name: '慢支' };
    const r = await p.deps.db.transaction((tx) => runtime.standardize(asLanded(csvInput(inst.id, 'diagnosis', dx)), tx));
    assert.ok('quarantine' in r);
    const list = await get(`/admin/terminology/unmapped?institution=${inst.id}`);
    assert.equal(list.statusCode, 200);
    const [u] = list.json();
    assert.equal(u.localCode, 'ZD9');
    assert.ok(u.suggestions.length > 0);
    const bad = await p.app.inject({ method: 'POST', url: '/admin/terminology/confirm', headers: { authorization: `Bearer ${admin}` }, payload: { institution: inst.id, localSystem: u.localSystem, localCode: 'ZD9', targetCode: 'NOPE' } });
    assert.equal(bad.statusCode, 400);
    const ok = await p.app.inject({ method: 'POST', url: '/admin/terminology/confirm', headers: { authorization: `Bearer ${admin}` }, payload: { institution: inst.id, localSystem: u.localSystem, localCode: 'ZD9', targetCode: 'J42' } });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual((await get(`/admin/terminology/unmapped?institution=${inst.id}`)).json(), []);
    const services = await runtime.services(p.deps.db);
    const m = await p.deps.db.transaction((tx) => services.mapper.map(tx, { institutionId: inst.id, kind: 'diagnosis', code: 'ZD9', display: '慢支' }));
    assert.equal(m.status === 'mapped' && m.coding.code, 'J42');
    const cm = (await get(`/admin/terminology/conceptmap?institution=${inst.id}`)).json();
    assert.equal(cm.resourceType, 'ConceptMap');
  });

  it('imports a GBK code table and looks a code up; refuses a non-operator', async () => {
    const csv = iconv.encode('编码,名称\nI10.x00x003,高血压1级\n', 'gbk');
    const res = await p.app.inject({ method: 'POST', url: '/admin/terminology/import?system=icd-10', headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' }, payload: csv });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().imported, 1);
    const look = await get('/admin/terminology/lookup?system=icd-10&code=I10.x00x003');
    assert.equal(look.json().display, '高血压1级');
    assert.equal((await get('/admin/terminology/unmapped', inst.token)).statusCode, 403);
  });
});
