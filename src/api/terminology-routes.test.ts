import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
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

  it('imports a publisher\'s distribution file streamed as application/octet-stream, which the standardizer uses at once; refuses an unknown format or a broken file with 400', async () => {
    const post = (url: string, payload: Buffer, token = admin) => p.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, payload });
    const loinc = readFileSync(new URL('../terminology/testdata/Loinc.csv', import.meta.url));
    const res = await post('/admin/terminology/import/loinc', loinc);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual([res.json().concepts, res.json().version], [4, '2.74']);
    const look = await get(`/admin/terminology/lookup?system=loinc&code=18262-6`);
    assert.equal(look.json().display, 'Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay');
    const services = await standardizationFor(p.deps).services(p.deps.db);
    assert.ok(services.terminology.lookup('http://loinc.org', '18262-6'), 'the running standardizer\'s tables were reloaded');
    assert.equal((await post('/admin/terminology/import/snomed', loinc)).statusCode, 400);
    const broken = await post('/admin/terminology/import/loinc', Buffer.from('"LOINC_NUM","LONG_COMMON_NAME"\n"72514-3,"unterminated\n'));
    assert.equal(broken.statusCode, 400, broken.body);
    assert.equal((await post('/admin/terminology/import/loinc', loinc, inst.token)).statusCode, 403);
  });
});
