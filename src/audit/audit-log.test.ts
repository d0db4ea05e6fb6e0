import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../test/support/db.ts';
import type { Db } from '../store/index.ts';
import { AuditLog, HASH_ALGORITHM, verifyAuditChain, type AuditEntry } from './index.ts';

const entry = (n: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  actor: { kind: 'user', subject: `dr-${n}`, role: 'clinician', institutionId: 'inst-1', scopes: [] },
  action: 'R', subtype: 'record-summary', personId: `P${String(n).padStart(10, '0')}`, patientKeys: [`k${n}`], purpose: 'TREAT',
  outcome: 'success', recorded: new Date(Date.UTC(2026, 0, 1, 0, 0, n)), ...extra,
});

describe('audit log', () => {
  let db: Db;
  let log: AuditLog;
  before(async () => {
    db = await openTestDb();
    log = new AuditLog(db);
  });
  after(async () => db.close());

  it('uses the national SM3 hash when the runtime has it', () => {
    assert.equal(HASH_ALGORITHM, 'sm3');
  });

  it('group-commits concurrent events into one chain that verifies', async () => {
    const ids = await Promise.all(Array.from({ length: 25 }, (_, i) => log.record(entry(i))));
    assert.equal(new Set(ids).size, 25);
    const { rows } = await db.query<{ n: number }>(`SELECT count(*) AS n FROM fhir_resource WHERE resource_type = 'AuditEvent'`);
    assert.equal(Number(rows[0].n), 25);
    const check = await verifyAuditChain(db);
    assert.deepEqual(check, { ok: true, checked: 25 });
  });

  it('stores break-the-glass reads with the BTG label and the person as patient_key', async () => {
    const id = await log.record(entry(99, { purpose: 'ETREAT', btg: true, reason: '急诊' }));
    const { rows } = await db.query<{ patient_key: string; content: { meta?: { security?: Array<{ code: string }> } } }>(
      `SELECT patient_key, content FROM fhir_resource WHERE resource_type = 'AuditEvent' AND id = $1`, [id],
    );
    assert.equal(rows[0].patient_key, 'P0000000099');
    assert.equal(rows[0].content.meta?.security?.[0].code, 'BTG');
    const flagged = await db.query<{ n: number }>('SELECT count(*) AS n FROM audit_chain WHERE btg');
    assert.equal(Number(flagged.rows[0].n), 1);
  });

  it('detects an edited AuditEvent and a deleted one', async () => {
    const ids = [await log.record(entry(200)), await log.record(entry(201)), await log.record(entry(202))];
    await db.query(`UPDATE fhir_resource SET content = jsonb_set(content, '{outcome}', '"4"') WHERE resource_type = 'AuditEvent' AND id = $1`, [ids[1]]);
    const edited = await verifyAuditChain(db);
    assert.equal(edited.ok, false);
    assert.equal(edited.brokenAt?.eventId, ids[1]);
    assert.equal(edited.brokenAt?.problem, 'content-changed');
    await db.query(`UPDATE fhir_resource SET content = jsonb_set(content, '{outcome}', '"0"') WHERE resource_type = 'AuditEvent' AND id = $1`, [ids[1]]);
    assert.equal((await verifyAuditChain(db)).ok, true, 'restored content verifies again');
    await db.query('DELETE FROM audit_chain WHERE event_id = $1', [ids[0]]);
    const cut = await verifyAuditChain(db);
    assert.equal(cut.ok, false);
    assert.equal(cut.brokenAt?.eventId, ids[1]);
    assert.equal(cut.brokenAt?.problem, 'link-broken');
  });
});
