import { canonicalJson } from '../../src/audit/index.ts';
import type { Db } from '../../src/store/index.ts';

/**
 * What an attacker with database access alone can do to the audit trail, for the tamper-detection tests
 * (src/audit/verify.test.ts, src/cli/commands/audit.test.ts), and a snapshot so each tampering starts untouched.
 */
const TABLES = ['audit_chain', 'audit_checkpoint'];

export async function snapshotAudit(db: Db): Promise<void> {
  for (const t of TABLES) await db.exec(`DROP TABLE IF EXISTS snap_${t}; CREATE TABLE snap_${t} AS SELECT * FROM ${t}`);
  await db.exec(`DROP TABLE IF EXISTS snap_events; CREATE TABLE snap_events AS SELECT * FROM fhir_resource WHERE resource_type = 'AuditEvent'`);
}

export async function restoreAudit(db: Db): Promise<void> {
  for (const t of TABLES) await db.exec(`DELETE FROM ${t}; INSERT INTO ${t} SELECT * FROM snap_${t}`);
  await db.exec(`DELETE FROM fhir_resource WHERE resource_type = 'AuditEvent'; INSERT INTO fhir_resource SELECT * FROM snap_events`);
}

/** The chain's links in order. */
export async function auditLinks(db: Db): Promise<Array<{ seq: number; id: string }>> {
  const { rows } = await db.query<{ seq: number; event_id: string }>('SELECT seq, event_id FROM audit_chain ORDER BY seq');
  return rows.map((r) => ({ seq: Number(r.seq), id: r.event_id }));
}

export async function editAuditEvent(db: Db, id: string, outcome = '4'): Promise<void> {
  await db.query(`UPDATE fhir_resource SET content = jsonb_set(content, '{outcome}', to_jsonb($2::text)) WHERE resource_type = 'AuditEvent' AND id = $1`, [id, outcome]);
}

/** Deletes the events and their links. */
export async function deleteAuditEvents(db: Db, links: Array<{ seq: number; id: string }>): Promise<void> {
  await db.query(`DELETE FROM fhir_resource WHERE resource_type = 'AuditEvent' AND id = ANY($1::text[])`, [links.map((l) => l.id)]);
  await db.query('DELETE FROM audit_chain WHERE seq = ANY($1::bigint[])', [links.map((l) => l.seq)]);
}

/** Recomputes every link with `link` from `genesis` (a rebuild without the audit key). */
export async function rebuildAuditChain(db: Db, genesis: string, link: (prev: string, canonical: string) => string): Promise<void> {
  const { rows } = await db.query<{ seq: number; content: unknown }>(
    `SELECT c.seq, r.content FROM audit_chain c JOIN fhir_resource r ON r.resource_type = 'AuditEvent' AND r.id = c.event_id ORDER BY c.seq`,
  );
  let prev = genesis;
  for (const r of rows) {
    const hash = link(prev, canonicalJson(r.content));
    await db.query('UPDATE audit_chain SET prev_hash = $1, hash = $2 WHERE seq = $3', [prev, hash, r.seq]);
    prev = hash;
  }
}
