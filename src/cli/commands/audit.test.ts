import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import { openTestPlatform, type TestPlatform } from '../../api/testing.ts';
import { auditLogFor, chainHash, GENESIS, type AuditEntry } from '../../audit/index.ts';
import { auditLinks, deleteAuditEvents, editAuditEvent, rebuildAuditChain, restoreAudit, snapshotAudit } from '../../../test/support/audit-tamper.ts';

const BIN = new URL('../../../bin/healthbrain.mjs', import.meta.url).pathname;

/** Runs the CLI; resolves with its exit code and output whatever the code. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const entry = (n: number): AuditEntry => ({
  actor: { kind: 'user', subject: `dr-${n}`, role: 'clinician', institutionId: 'inst-1', scopes: [] },
  action: 'R', subtype: 'record-summary', personId: `P${String(n).padStart(10, '0')}`, patientKeys: [`k${n}`], purpose: 'TREAT',
  outcome: 'success', recorded: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
});

describe('healthbrain audit verify | checkpoint against a running server', () => {
  let p: TestPlatform;
  let args: string[];
  let links: Array<{ seq: number; id: string }>;
  before(async () => {
    p = await openTestPlatform();
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    args = ['--data', p.dataDir, '--server', `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}`];
    const log = auditLogFor(p.deps.db);
    for (let i = 0; i < 12; i++) await log.record(entry(i));
    links = await auditLinks(p.deps.db);
    const cp = await cli(['audit', 'checkpoint', ...args]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.match(cp.stdout, new RegExp(`^checkpoint at seq ${links[11].seq} \\(12 links\\) hmac-sm3:[0-9a-f]{64}, signed .* by sm3:[0-9a-f]{64}\\n$`));
    await snapshotAudit(p.deps.db);
  });
  afterEach(async () => restoreAudit(p.deps.db));
  after(() => p.close());

  it('exits 0 and says ok for an untouched trail, with the checkpoint the command wrote', async () => {
    const r = await cli(['audit', 'verify', ...args]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^audit chain ok: 12 link\(s\) verified under the audit key\n/);
    assert.match(r.stdout, new RegExp(`checkpoints   1 in the database, 1 in the data directory's file\\nnewest        seq ${links[11].seq} \\(12 links, manual, `));
  });

  it('exits 1 and names the first broken link for an edited event', async () => {
    await editAuditEvent(p.deps.db, links[4].id);
    const r = await cli(['audit', 'verify', ...args]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^audit chain TAMPERED: 1 problem\(s\), 12 link\(s\) walked\n/);
    assert.ok(r.stdout.includes(`first broken: seq ${links[4].seq} (AuditEvent/${links[4].id}): content-changed`), r.stdout);
  });

  it('exits 1 for an event deleted in the middle', async () => {
    await deleteAuditEvents(p.deps.db, [links[6]]);
    const r = await cli(['audit', 'verify', ...args]);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.includes(`first broken: seq ${links[7].seq} (AuditEvent/${links[7].id}): link-broken`), r.stdout);
  });

  it('exits 1 for the tail truncated, also when the database’s checkpoints are deleted too', async () => {
    await deleteAuditEvents(p.deps.db, links.slice(9));
    await p.deps.db.exec('DELETE FROM audit_checkpoint');
    const r = await cli(['audit', 'verify', ...args]);
    assert.equal(r.code, 1);
    assert.ok(r.stdout.includes(`first broken: seq ${links[11].seq}: checkpoint-missing`), r.stdout);
    assert.match(r.stdout, /truncated — the chain ends at link \d+ \(9 links\)/);
  });

  it('exits 1 for the chain rebuilt without the key, and --json gives the full report', async () => {
    await rebuildAuditChain(p.deps.db, GENESIS, chainHash);
    const r = await cli(['audit', 'verify', '--json', ...args]);
    assert.equal(r.code, 1);
    const v = JSON.parse(r.stdout);
    assert.equal(v.ok, false);
    assert.equal(v.legacyLinks, 12);
    assert.deepEqual([...new Set(v.problems.map((x: { problem: string }) => x.problem))].sort(), ['checkpoint-mismatch', 'unkeyed-link']);
  });
});
