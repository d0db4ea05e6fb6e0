import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { openTestPlatform, type TestPlatform } from '../../api/testing.ts';
import { quarantineShare } from './quarantine-share.ts';

// Issue 17: the demo prints the share of its records held, by reason, with what each means and the command to work it
// — read through the real operator API of a real platform.
describe('the demo\'s quarantine share', () => {
  let p: TestPlatform;
  let api: { request<T>(method: string, path: string): Promise<T> };
  before(async () => {
    p = await openTestPlatform();
    const admin = await p.adminToken();
    api = {
      request: async <T,>(method: string, path: string) => (await p.app.inject({ method: method as 'GET', url: path, headers: { authorization: `Bearer ${admin}` } })).json() as T,
    };
  });
  after(() => p.close());

  it('says nothing is held when nothing is, and otherwise the share, the reasons and the fixing command', async () => {
    assert.deepEqual(await quarantineShare(api, { received: 10, quarantined: 0 }), ['quarantine: nothing held']);
    const inst = await p.addInstitution('某卫生院');
    const P = 'urn:uuid:00000000-0000-4000-8000-000000000001';
    const bundle = {
      resourceType: 'Bundle', type: 'transaction', entry: [
        { fullUrl: P, resource: { resourceType: 'Patient', identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: 'http://his.example.cn/mrn', value: 'Q1' }], name: [{ text: '钱七' }], birthDate: '1960-05-01' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Condition', code: { coding: [{ system: 'http://his.example.cn/dx', code: 'ZD-1', display: '某院内诊断' }] }, subject: { reference: P } }, request: { method: 'POST', url: 'Condition' } },
      ],
    };
    const res = await p.app.inject({ method: 'POST', url: '/fhir', headers: { authorization: `Bearer ${inst.token}`, 'content-type': 'application/fhir+json' }, payload: JSON.stringify(bundle) });
    assert.equal(res.statusCode, 202, res.body);
    const lines = await quarantineShare(api, { received: 8, quarantined: 2 });
    assert.equal(lines[0], 'quarantine share: 25.0 % of 8 received records (2), by reason:');
    assert.match(lines[1], /^ {2}unmapped-code: 1 unit\(s\) — local codes .* standard codes .* are never held; `healthbrain terminology unmapped` .*`healthbrain terminology confirm /);
  });
});
