import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { auditLinks as seqs, deleteAuditEvents, editAuditEvent, rebuildAuditChain as rebuildChain, restoreAudit as restore, snapshotAudit as snapshot } from '../../test/support/audit-tamper.ts';
import { openTestDb } from '../../test/support/db.ts';
import { FieldCrypto, generateKeyRing } from '../crypto/index.ts';
import type { Db } from '../store/index.ts';
import {
  AuditLog,
  chainHash,
  checkpointFilePath,
  GENESIS,
  KEYED_GENESIS,
  keyedLink,
  readCheckpointFile,
  verifyAudit,
  verifyCheckpoint,
  type AuditEntry,
} from './index.ts';

const entry = (n: number): AuditEntry => ({
  actor: { kind: 'user', subject: `dr-${n}`, role: 'clinician', institutionId: 'inst-1', scopes: [] },
  action: 'R', subtype: 'record-summary', personId: `P${String(n).padStart(10, '0')}`, patientKeys: [`k${n}`], purpose: 'TREAT',
  outcome: 'success', recorded: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
});

describe('audit verification: keyed chain and signed checkpoints', () => {
  let db: Db;
  let dir: string;
  let file: string;
  let links: Array<{ seq: number; id: string }>;
  before(async () => {
    db = await openTestDb();
    dir = mkdtempSync(join(tmpdir(), 'hb-audit-'));
    file = checkpointFilePath(dir);
    const log = new AuditLog(db);
    await log.useCheckpoints({ file, everyEvents: 10, everySeconds: 0 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.record(entry(i))));
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.record(entry(10 + i))));
    for (let i = 20; i < 25; i++) await log.record(entry(i));
    await log.stopCheckpoints();
    links = await seqs(db);
    await snapshot(db);
  });
  afterEach(async () => restore(db));
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('links every event with HMAC-SM3 and checkpoints every N events and at clean shutdown, in the table and the file', async () => {
    const { rows } = await db.query<{ hash: string }>('SELECT hash FROM audit_chain ORDER BY seq');
    assert.equal(rows.length, 25);
    assert.ok(rows.every((r) => /^hmac-sm3:[0-9a-f]{64}$/.test(r.hash)));
    const { checkpoints, bad } = readCheckpointFile(file);
    assert.deepEqual(bad, []);
    assert.deepEqual(checkpoints.map((c) => [c.kind, c.count, c.seq]), [['events', 10, links[9].seq], ['events', 20, links[19].seq], ['shutdown', 25, links[24].seq]]);
    const v = await verifyAudit(db, { checkpointFile: file });
    assert.equal(v.ok, true, JSON.stringify(v.problems));
    assert.deepEqual([v.checked, v.checkpoints.table, v.checkpoints.file, v.checkpoints.newest?.count, v.legacyLinks], [25, 3, 3, 25, 0]);
  });

  it('has checkpoints anyone can check with the public key alone, and no other key', () => {
    const [cp] = readCheckpointFile(file).checkpoints;
    assert.ok(verifyCheckpoint(cp, db.crypto.publicKey));
    assert.ok(!verifyCheckpoint(cp, new FieldCrypto(generateKeyRing()).publicKey));
    assert.ok(!verifyCheckpoint({ ...cp, count: cp.count - 1 }, db.crypto.publicKey), 'a changed count');
  });

  it('detects an edited event as content-changed at its link, and only there', async () => {
    const target = links[12];
    await editAuditEvent(db, target.id);
    const v = await verifyAudit(db, { checkpointFile: file });
    assert.equal(v.ok, false);
    assert.deepEqual(v.problems?.map((p) => [p.seq, p.eventId, p.problem]), [[target.seq, target.id, 'content-changed']]);
  });

  it('detects an event deleted in the middle with its link: the next link is broken and the checkpoint count differs', async () => {
    const gone = links[13];
    await deleteAuditEvents(db, [gone]);
    const v = await verifyAudit(db, { checkpointFile: file });
    assert.equal(v.ok, false);
    assert.deepEqual([v.brokenAt?.seq, v.brokenAt?.eventId, v.brokenAt?.problem], [links[14].seq, links[14].id, 'link-broken']);
    assert.ok(v.problems?.some((p) => p.seq === links[19].seq && p.problem === 'checkpoint-mismatch'), JSON.stringify(v.problems));
  });

  it('detects the tail truncated — the last events, their links and even the table’s checkpoints deleted', async () => {
    const cut = links.slice(22);
    await deleteAuditEvents(db, cut);
    const v = await verifyAudit(db, { checkpointFile: file });
    assert.equal(v.ok, false);
    assert.deepEqual([v.brokenAt?.seq, v.brokenAt?.problem], [links[24].seq, 'truncated']);
    assert.match(v.brokenAt!.detail!, /ends at link \d+ \(22 links\).*25 links/);
    await db.query('DELETE FROM audit_checkpoint WHERE chain_seq > $1', [links[19].seq]);
    const again = await verifyAudit(db, { checkpointFile: file });
    assert.deepEqual(again.problems?.map((p) => p.problem).sort(), ['checkpoint-missing', 'truncated']);
  });

  it('detects the whole chain rebuilt without the key, and a restart does not seal the rebuilt chain', async () => {
    await rebuildChain(db, GENESIS, chainHash);
    await db.exec('DELETE FROM audit_checkpoint');
    const v = await verifyAudit(db, { checkpointFile: file });
    assert.equal(v.ok, false);
    const kinds = new Set(v.problems?.map((p) => p.problem));
    assert.ok(kinds.has('unkeyed-link') && kinds.has('checkpoint-mismatch') && kinds.has('checkpoint-missing'), JSON.stringify(v.problems));
    const restarted = new AuditLog(db);
    const errors: unknown[] = [];
    await restarted.useCheckpoints({ file, everySeconds: 0, onError: (e) => errors.push(e) });
    assert.equal(errors.length, 1, 'the unkeyed head is reported, not signed');
    assert.equal(Number((await db.query<{ n: number }>('SELECT count(*) AS n FROM audit_checkpoint')).rows[0].n), 0);
    const tableOnly = await verifyAudit(db);
    assert.deepEqual(tableOnly.problems?.map((p) => p.problem), ['unkeyed-link'], 'without the file too: nothing seals unkeyed links');
  });

  it('detects the whole chain rebuilt under a guessed key at its first link and at every checkpoint', async () => {
    const guessed = new FieldCrypto(generateKeyRing());
    await rebuildChain(db, KEYED_GENESIS, (prev, canonical) => keyedLink(guessed, prev, canonical));
    const v = await verifyAudit(db, { checkpointFile: file });
    assert.deepEqual([v.brokenAt?.seq, v.brokenAt?.problem], [links[0].seq, 'content-changed']);
    assert.equal(v.problems?.filter((p) => p.problem === 'content-changed').length, 25);
    assert.equal(v.problems?.filter((p) => p.problem === 'checkpoint-mismatch').length, 3);
  });

  it('detects an edited checkpoint and one signed by another key', async () => {
    await db.query('UPDATE audit_checkpoint SET count = count - 1 WHERE chain_seq = $1', [links[9].seq]);
    const other = new FieldCrypto(generateKeyRing());
    const { rows } = await db.query<{ at: Date }>('SELECT at FROM audit_checkpoint LIMIT 1');
    const forged = { kind: 'manual', seq: links[24].seq + 5, head: 'hmac-sm3:' + '0'.repeat(64), count: 30, at: new Date(rows[0].at).toISOString() };
    await db.query(
      'INSERT INTO audit_checkpoint (kind, chain_seq, head, count, at, key_fingerprint, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [forged.kind, forged.seq, forged.head, forged.count, forged.at, 'sm3:x', other.sign('anything')],
    );
    const v = await verifyAudit(db, { checkpointFile: file });
    assert.deepEqual(v.problems?.map((p) => [p.seq, p.problem]), [
      [links[9].seq, 'checkpoint-signature-invalid'],
      [links[9].seq, 'checkpoint-missing'], // the genuine one, still in the file, is no longer in the table
      [forged.seq, 'checkpoint-signature-invalid'],
    ]);
  });

  it('detects a line of the checkpoint file that is not a signed checkpoint', async () => {
    const text = readFileSync(file, 'utf8');
    const dir2 = mkdtempSync(join(tmpdir(), 'hb-audit-'));
    try {
      const copy = checkpointFilePath(dir2);
      const lines = text.trim().split('\n');
      const edited = JSON.parse(lines[1]);
      edited.count = 99;
      mkdirSync(join(dir2, 'audit'));
      writeFileSync(copy, [lines[0], JSON.stringify(edited), lines[2], '{"torn'].join('\n') + '\n');
      const v = await verifyAudit(db, { checkpointFile: copy });
      assert.deepEqual(v.problems?.map((p) => p.problem), ['checkpoint-signature-invalid', 'checkpoint-signature-invalid']);
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});

describe('audit verification of a chain from before the audit key', () => {
  let db: Db;
  let dir: string;
  before(async () => {
    db = await openTestDb();
    dir = mkdtempSync(join(tmpdir(), 'hb-audit-'));
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies unkeyed SM3 links up to the signed re-key checkpoint the first start writes, then keyed links', async () => {
    // An old data directory: links in plain SM3 (as the writer before issue 10 made them), no checkpoints.
    const old = new AuditLog(db);
    for (let i = 0; i < 3; i++) await old.record(entry(i));
    await rebuildChain(db, GENESIS, chainHash);
    const unsealed = await verifyAudit(db);
    assert.deepEqual(unsealed.problems?.map((p) => p.problem), ['unkeyed-link'], 'unsealed legacy links are not trusted');
    const file = checkpointFilePath(dir);
    const log = new AuditLog(db);
    await log.useCheckpoints({ file, everySeconds: 0 });
    assert.deepEqual(readCheckpointFile(file).checkpoints.map((c) => [c.kind, c.count]), [['rekeyed', 3]]);
    for (let i = 3; i < 5; i++) await log.record(entry(i));
    const v = await verifyAudit(db, { checkpointFile: file });
    assert.equal(v.ok, true, JSON.stringify(v.problems));
    assert.deepEqual([v.checked, v.legacyLinks], [5, 3]);
    const [first] = await seqs(db);
    await editAuditEvent(db, first.id, '8');
    const edited = await verifyAudit(db, { checkpointFile: file });
    assert.deepEqual([edited.brokenAt?.seq, edited.brokenAt?.problem], [first.seq, 'content-changed'], 'a legacy link still checks its SM3');
  });

  it('checkpoints every T seconds when events were written since the last, and not when none were', async () => {
    const file = checkpointFilePath(dir);
    const log = new AuditLog(db);
    await log.useCheckpoints({ file, everySeconds: 1 });
    const count = () => readCheckpointFile(file).checkpoints.length;
    const start = count();
    await log.record(entry(50));
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal(count(), start + 1);
    assert.equal(readCheckpointFile(file).checkpoints.at(-1)?.kind, 'timer');
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(count(), start + 1, 'nothing new: no checkpoint');
    await log.stopCheckpoints();
    assert.equal(count(), start + 1, 'nothing since the last: no shutdown checkpoint either');
  });
});
