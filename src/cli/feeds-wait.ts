/** One institution's line of `GET /admin/feeds`. */
export interface FeedRow {
  institution_id: string;
  institution_name: string;
  received: number;
  standardized: number;
  quarantined: number;
  duplicates: number;
  /** Landed, not yet standardized: received = standardized + quarantined + duplicates + pending. */
  pending: number;
  last_received_at: string | null;
}

/** `feeds --wait` gave up: units were still pending when its timeout passed. */
export class FeedsWaitTimeout extends Error {
  readonly rows: FeedRow[];
  constructor(rows: FeedRow[], timeoutMs: number) {
    const pending = rows.reduce((n, r) => n + r.pending, 0);
    super(`${pending} record(s) still pending after ${timeoutMs / 1000} s (the worker is still standardizing; run feeds again to see progress)`);
    this.rows = rows;
  }
}

/**
 * `feeds --wait`: asks for the feed counts until no institution has anything pending, and returns those counts.
 * Throws FeedsWaitTimeout (with the last counts) once `timeoutMs` passed with records still pending.
 */
export async function waitUntilSettled(
  fetchRows: () => Promise<FeedRow[]>,
  options: { timeoutMs: number; intervalMs?: number },
): Promise<FeedRow[]> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const rows = await fetchRows();
    if (rows.every((r) => r.pending === 0)) return rows;
    if (Date.now() >= deadline) throw new FeedsWaitTimeout(rows, options.timeoutMs);
    await new Promise((r) => setTimeout(r, Math.min(options.intervalMs ?? 500, Math.max(0, deadline - Date.now()))));
  }
}
