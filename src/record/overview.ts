/**
 * The region overview for operators and managers (`GET /admin/overview`): institutions with their volumes per
 * ingestion channel (last 7 days), quarantine and pending (landed, not yet standardized) counts and last receipt, and
 * accepted messages per day and channel (last 14 days) — computed set-based from the ingest module's landing table (landed_unit: one row per accepted
 * message, channel, received_at, status), plus totals. Aggregates only: no personal data, so not audited.
 */
import type { Queryable } from '../store/index.ts';
import type { IngestChannel, RegionOverview } from './summary-types.ts';

const CHANNEL: Record<string, IngestChannel> = { fhir: 'fhir', 'hl7-mllp': 'hl7v2', 'hl7-http': 'hl7v2', csv: 'csv' };
const KINDS = new Set(['hospital', 'township', 'village', 'community', 'public-health']);
/** China's one time zone, no daylight saving: the offset ingest_day() (migration 0210) counts days in. */
const REGION_OFFSET_MS = 8 * 3_600_000;
const zero = (): Record<IngestChannel, number> => ({ fhir: 0, hl7v2: 0, csv: 0 });

export async function regionOverview(q: Queryable, now: Date): Promise<RegionOverview> {
  const day = 86_400_000;
  const week = new Date(now.getTime() - 7 * day).toISOString();
  // Days are the region's days (UTC+8, as ingest_day() counts them): the window starts at Beijing midnight.
  const beijing = new Date(now.getTime() + REGION_OFFSET_MS);
  const firstDayLabel = new Date(Date.UTC(beijing.getUTCFullYear(), beijing.getUTCMonth(), beijing.getUTCDate()) - 13 * day);
  const firstDay = new Date(firstDayLabel.getTime() - REGION_OFFSET_MS);
  const [inst, vol, daily, totals] = await Promise.all([
    q.query<{ id: string; name: string; type: string }>('SELECT id, name, type FROM institution ORDER BY name'),
    q.query<{ institution_id: string; channel: string; recent: number; quarantined: number; pending: number; last: Date | null }>(
      `SELECT institution_id, channel, count(*) FILTER (WHERE received_at >= $1::timestamptz) AS recent,
         count(*) FILTER (WHERE status = 'quarantined') AS quarantined, count(*) FILTER (WHERE status = 'landed') AS pending,
         max(received_at) AS last
       FROM landed_unit GROUP BY institution_id, channel`,
      [week],
    ),
    q.query<{ day: string; channel: string; n: number }>(
      `SELECT to_char(ingest_day(received_at), 'YYYY-MM-DD') AS day, channel, count(*) AS n FROM landed_unit
       WHERE received_at >= $1::timestamptz GROUP BY 1, 2`,
      [firstDay.toISOString()],
    ),
    q.query<{ persons: number; resources: number; quarantined: number }>(
      `SELECT (SELECT count(*) FROM empi_person WHERE merged_into IS NULL) AS persons,
         (SELECT CASE WHEN c.reltuples > 1000000 THEN c.reltuples::bigint ELSE (SELECT count(*) FROM fhir_resource WHERE NOT deleted AND resource_type <> 'AuditEvent') END
            FROM pg_class c WHERE c.oid = 'fhir_resource'::regclass) AS resources,
         (SELECT count(*) FROM landed_unit WHERE status = 'quarantined') AS quarantined`,
    ),
  ]);
  const per = new Map<string, { received: Record<IngestChannel, number>; quarantined: number; pending: number; last?: string }>();
  for (const r of vol.rows) {
    const slot = per.get(r.institution_id) ?? { received: zero(), quarantined: 0, pending: 0 };
    const ch = CHANNEL[r.channel] ?? 'fhir';
    slot.received[ch] += Number(r.recent);
    slot.quarantined += Number(r.quarantined);
    slot.pending += Number(r.pending);
    const last = r.last ? new Date(r.last).toISOString() : undefined;
    if (last && (!slot.last || last > slot.last)) slot.last = last;
    per.set(r.institution_id, slot);
  }
  const days = new Map<string, { day: string } & Record<IngestChannel, number>>();
  for (let i = 0; i < 14; i++) {
    const d = new Date(firstDayLabel.getTime() + i * day).toISOString().slice(0, 10);
    days.set(d, { day: d, ...zero() });
  }
  for (const r of daily.rows) {
    const slot = days.get(r.day);
    if (slot) slot[CHANNEL[r.channel] ?? 'fhir'] += Number(r.n);
  }
  const t = totals.rows[0];
  return {
    generated: now.toISOString(),
    totals: { institutions: inst.rows.length, persons: Number(t.persons), resources: Number(t.resources), quarantined: Number(t.quarantined) },
    institutions: inst.rows.map((i) => {
      const s = per.get(i.id);
      return {
        institution: { id: i.id, name: i.name },
        kind: (KINDS.has(i.type) ? i.type : 'hospital') as RegionOverview['institutions'][number]['kind'],
        received: s?.received ?? zero(),
        quarantined: s?.quarantined ?? 0,
        pending: s?.pending ?? 0,
        ...(s?.last ? { lastReceived: s.last } : {}),
      };
    }),
    daily: [...days.values()],
  };
}
