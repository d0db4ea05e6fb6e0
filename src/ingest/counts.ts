import type { Queryable } from '../store/index.ts';

/** Receipts of one institution on one day (the region's day, UTC+8: `ingest_day`, migration 0210). Always: received = standardized + quarantined + duplicates + pending. */
export interface FeedCount {
  institutionId: string;
  day: string;
  received: number;
  standardized: number;
  quarantined: number;
  duplicates: number;
  /** Landed, not yet standardized (in flight). */
  pending: number;
  lastReceivedAt: Date | null;
}

interface Row {
  institution_id: string;
  day: string;
  received: number;
  standardized: number;
  quarantined: number;
  duplicates: number;
  pending: number;
  last_received_at: Date | null;
}

/** Per-institution, per-day receipt counts from the `feed_counts` view (issue 4's reconciliation). */
export async function feedCounts(db: Queryable, filter: { institution?: string; day?: string } = {}): Promise<FeedCount[]> {
  const { rows } = await db.query<Row>(
    `SELECT institution_id, day, received, standardized, quarantined, duplicates, pending, last_received_at
       FROM feed_counts
      WHERE ($1::text IS NULL OR institution_id = $1) AND ($2::date IS NULL OR day = $2::date)
      ORDER BY institution_id, day`,
    [filter.institution ?? null, filter.day ?? null],
  );
  return rows.map((r) => ({
    institutionId: r.institution_id,
    day: r.day,
    received: Number(r.received),
    standardized: Number(r.standardized),
    quarantined: Number(r.quarantined),
    duplicates: Number(r.duplicates),
    pending: Number(r.pending),
    lastReceivedAt: r.last_received_at,
  }));
}

/** One line of `healthbrain feeds`: an institution's totals over all days. */
export interface FeedSummary {
  institutionId: string;
  received: number;
  standardized: number;
  quarantined: number;
  duplicates: number;
  pending: number;
  lastReceivedAt: string | null;
}

/** Totals per institution over all days, for the operator's feed overview (`GET /admin/feeds`). */
export async function feedSummaries(db: Queryable, institution?: string): Promise<FeedSummary[]> {
  const totals = new Map<string, FeedSummary>();
  for (const c of await feedCounts(db, { institution })) {
    const t = totals.get(c.institutionId) ?? {
      institutionId: c.institutionId, received: 0, standardized: 0, quarantined: 0, duplicates: 0, pending: 0, lastReceivedAt: null,
    };
    t.received += c.received;
    t.standardized += c.standardized;
    t.quarantined += c.quarantined;
    t.duplicates += c.duplicates;
    t.pending += c.pending;
    const last = c.lastReceivedAt?.toISOString() ?? null;
    if (last && (!t.lastReceivedAt || last > t.lastReceivedAt)) t.lastReceivedAt = last;
    totals.set(c.institutionId, t);
  }
  return [...totals.values()];
}
