import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditLogFor, readCheckpointFile, checkpointFilePath, type AuditEntry } from '../audit/index.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const entry = (n: number): AuditEntry => ({
  actor: { kind: 'user', subject: `dr-${n}`, role: 'clinician', institutionId: 'inst-1', scopes: [] },
  action: 'R', subtype: 'record-summary', personId: `P${String(n).padStart(10, '0')}`, purpose: 'TREAT', outcome: 'success', recorded: new Date(),
});

describe('audit operator API', () => {
  let p: TestPlatform;
  let token: (role: string) => Promise<string>;
  before(async () => {
    p = await openTestPlatform();
    const admin = await p.adminToken();
    token = async (role) => (await p.app.inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload: { role, user: `${role}-1` } })).json().access_token;
  });
  after(async () => p.close());

  it('answers an empty chain: ok, and no checkpoint to write', async () => {
    const auditor = await token('auditor');
    const v = await p.app.inject({ method: 'GET', url: '/admin/audit/verify', headers: bearer(auditor) });
    assert.equal(v.statusCode, 200);
    assert.deepEqual([v.json().ok, v.json().checked], [true, 0]);
    const cp = await p.app.inject({ method: 'POST', url: '/admin/audit/checkpoint', headers: bearer(auditor) });
    assert.deepEqual([cp.statusCode, cp.json()], [200, { checkpoint: null }]);
  });

  it('lets auditors, operators and the admin verify and checkpoint, and refuses every other role', async () => {
    await auditLogFor(p.deps.db).record(entry(1));
    for (const role of ['clinician', 'manager', 'researcher', 'resident']) {
      const t = await token(role);
      assert.equal((await p.app.inject({ method: 'GET', url: '/admin/audit/verify', headers: bearer(t) })).statusCode, 403, role);
      assert.equal((await p.app.inject({ method: 'POST', url: '/admin/audit/checkpoint', headers: bearer(t) })).statusCode, 403, role);
    }
    const cp = await p.app.inject({ method: 'POST', url: '/admin/audit/checkpoint', headers: bearer(await token('operator')) });
    assert.equal(cp.statusCode, 201, cp.body);
    assert.equal(cp.json().checkpoint.count, 1);
    assert.deepEqual(readCheckpointFile(checkpointFilePath(p.dataDir)).checkpoints.map((c) => c.signature), [cp.json().checkpoint.signature], 'in the data directory file too');
    const v = (await p.app.inject({ method: 'GET', url: '/admin/audit/verify', headers: bearer(await p.adminToken()) })).json();
    assert.deepEqual([v.ok, v.checked, v.checkpoints.table, v.checkpoints.file], [true, 1, 1, 1]);
  });
});
