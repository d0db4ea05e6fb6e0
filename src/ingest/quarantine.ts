import type { Queryable } from '../store/index.ts';
import type { QuarantineReason } from './types.ts';

export interface QuarantineFilter {
  institution?: string;
  /** A reason code, e.g. `unmapped-code`, `standardizer-missing`. */
  reason?: string;
}

export interface QuarantinedUnit {
  id: number;
  institutionId: string;
  channel: string;
  receivedAt: Date;
  reasons: QuarantineReason[];
  meta: Record<string, unknown>;
}

const where = `status = 'quarantined' AND ($1::text IS NULL OR institution_id = $1)
  AND ($2::text IS NULL OR reasons @> jsonb_build_array(jsonb_build_object('code', $2::text)))`;

/** Quarantined units, newest first, filtered by institution and reason code. */
export async function listQuarantine(db: Queryable, filter: QuarantineFilter = {}, limit = 100): Promise<QuarantinedUnit[]> {
  const { rows } = await db.query<{
    id: number; institution_id: string; channel: string; received_at: Date; reasons: QuarantineReason[]; meta: Record<string, unknown>;
  }>(
    `SELECT id, institution_id, channel, received_at, reasons, meta FROM landed_unit WHERE ${where} ORDER BY id DESC LIMIT $3`,
    [filter.institution ?? null, filter.reason ?? null, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id), institutionId: r.institution_id, channel: r.channel, receivedAt: r.received_at, reasons: r.reasons ?? [], meta: r.meta,
  }));
}

/** Quarantine counts by institution and reason code (a unit with two reasons counts under both). */
export async function quarantineSummary(db: Queryable, filter: QuarantineFilter = {}): Promise<Array<{ institutionId: string; reason: string; units: number }>> {
  const { rows } = await db.query<{ institution_id: string; reason: string; units: number }>(
    `SELECT institution_id, r->>'code' AS reason, count(DISTINCT id) AS units
       FROM landed_unit, jsonb_array_elements(coalesce(reasons, '[]'::jsonb)) AS r
      WHERE ${where} GROUP BY 1, 2 ORDER BY 1, 3 DESC`,
    [filter.institution ?? null, filter.reason ?? null],
  );
  return rows.map((r) => ({ institutionId: r.institution_id, reason: r.reason, units: Number(r.units) }));
}

/**
 * Puts quarantined units back on the work queue (after an operator fixed a mapping): status 'landed', attempts 0.
 * processed_at is kept: it marks the unit as processed before, which the worker takes at once even from the FHIR channel.
 * The worker then standardizes them again; their counts move from quarantined back through pending. Returns how many.
 */
export async function reprocess(db: Queryable, filter: QuarantineFilter = {}): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE landed_unit SET status = 'landed', attempts = 0, last_error = NULL, reasons = NULL WHERE ${where}`,
    [filter.institution ?? null, filter.reason ?? null],
  );
  return rowCount;
}
