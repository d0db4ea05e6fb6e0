/**
 * Verification of the audit chain (tamper evidence, GB/T 39786-2021 §8 integrity of audit records): recomputes every
 * link from the stored AuditEvents in chain order. An edited, deleted or inserted event breaks the chain at that link.
 */
import type { Queryable } from '../store/index.ts';
import { canonicalJson } from './audit-event.ts';
import { chainHash, GENESIS } from './audit-log.ts';

export interface ChainCheck {
  ok: boolean;
  checked: number;
  /** The first event whose link does not verify. */
  brokenAt?: { seq: number; eventId: string; problem: 'content-changed' | 'link-broken' | 'event-missing' };
}

/** Walks the chain in `seq` order, `batch` links per query. */
export async function verifyAuditChain(q: Queryable, batch = 5000): Promise<ChainCheck> {
  let prev = GENESIS;
  let after = 0;
  let checked = 0;
  for (;;) {
    const { rows } = await q.query<{ seq: number; event_id: string; prev_hash: string; hash: string; content: unknown }>(
      `SELECT c.seq, c.event_id, c.prev_hash, c.hash, r.content FROM audit_chain c
       LEFT JOIN fhir_resource r ON r.resource_type = 'AuditEvent' AND r.id = c.event_id
       WHERE c.seq > $1 ORDER BY c.seq LIMIT ${batch}`,
      [after],
    );
    if (!rows.length) return { ok: true, checked };
    for (const r of rows) {
      const seq = Number(r.seq);
      if (r.prev_hash !== prev) return { ok: false, checked, brokenAt: { seq, eventId: r.event_id, problem: 'link-broken' } };
      if (r.content === null || r.content === undefined) return { ok: false, checked, brokenAt: { seq, eventId: r.event_id, problem: 'event-missing' } };
      if (chainHash(prev, canonicalJson(r.content)) !== r.hash) return { ok: false, checked, brokenAt: { seq, eventId: r.event_id, problem: 'content-changed' } };
      prev = r.hash;
      after = seq;
      checked++;
    }
  }
}
