import type { Bundle } from '@medplum/fhirtypes';
import type { Db, Queryable } from '../store/index.ts';
import { contentHash, landUnits } from './landing.ts';
import { landingSource, type Channel, type LandedUnit, type QuarantineReason, type UnitStatus } from './types.ts';

export const FHIR_CONTENT_TYPE = 'application/fhir+json';

/** A Bundle landed before it is standardized. */
export interface FhirLanding {
  /** The landed unit (for a duplicate: the one landed before, with its status now). */
  unit: LandedUnit;
  duplicate: boolean;
  /** Status of the landed unit now ('landed' = not processed yet: new, or a first attempt crashed). */
  status: UnitStatus;
  /** Of a duplicate already quarantined: the reasons it was quarantined for. */
  reasons?: QuarantineReason[];
  bundleType: 'transaction' | 'batch';
  entries: number;
}

/** True for what `landFhirBundle` applies to: a transaction or batch Bundle. */
export function isIngestBundle(body: unknown): body is Bundle {
  const b = body as Bundle | undefined;
  return !!b && typeof b === 'object' && b.resourceType === 'Bundle' && (b.type === 'transaction' || b.type === 'batch');
}

/**
 * Marks a landed unit for the FHIR asynchronous pattern (`Prefer: respond-async`): its sender was answered 202 before
 * standardization, so the worker takes it at once. Without the mark, the worker leaves a FHIR unit never processed to
 * the request that landed it (which standardizes it synchronously) for two minutes — its crash window.
 */
export const RESPOND_ASYNC = { respond: 'async' } as const;

/**
 * The FHIR channel's landing step (issue 4): an institution's transaction/batch Bundle is written verbatim to the
 * landing store BEFORE it is standardized, so that received = standardized + quarantined + duplicates holds for FHIR
 * too. `raw` is the request body as received (bytes, in `options.encoding`, default UTF-8; or text); `parsed` the JSON the HTTP layer parsed. One statement
 * for a new Bundle; a duplicate costs one more (its status and reasons, to answer it without processing it twice).
 * Synchronous (default): the caller then standardizes `unit` and records the verdict with `settleFhirBundle`; the
 * worker takes over a FHIR unit only if it is left 'landed' (a crash) for two minutes. `respondAsync`: the unit is
 * landed with RESPOND_ASYNC in its meta and the worker standardizes it at once; a duplicate of a unit still 'landed'
 * (a crashed or running synchronous request's) is marked so too — one more statement — and then left to the worker.
 */
export async function landFhirBundle(
  db: Db, institutionId: string, raw: string | Uint8Array | undefined, parsed: unknown, options: { respondAsync?: boolean; encoding?: string } = {},
): Promise<FhirLanding> {
  // The charset the body was sent in (`charset=gbk`): raw bytes stay as sent and are decoded in it again by the worker.
  const encoding = typeof raw === 'object' && options.encoding ? options.encoding : 'utf-8';
  const content = raw === undefined ? Buffer.from(JSON.stringify(parsed)) : typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const bundle = parsed as Bundle;
  const entries = bundle.entry?.length ?? 0;
  const meta = { bundleType: bundle.type, entries, ...(raw === undefined ? { reserialized: true } : {}), ...(options.respondAsync ? RESPOND_ASYNC : {}) };
  const [r] = await landUnits(db, [
    { institutionId, channel: 'fhir', contentType: FHIR_CONTENT_TYPE, encoding, content, records: Math.max(1, entries), meta },
  ]);
  const { status, reasons } = r.duplicate ? await fhirUnitState(db, r.id) : { status: 'landed' as const, reasons: undefined };
  if (r.duplicate && status === 'landed' && options.respondAsync) {
    await db.query(`UPDATE landed_unit SET meta = meta || $2::jsonb WHERE id = $1 AND status = 'landed'`, [r.id, JSON.stringify(RESPOND_ASYNC)]);
  }
  const unit: LandedUnit = {
    id: r.id, institutionId, channel: 'fhir', contentType: FHIR_CONTENT_TYPE, encoding, receivedAt: new Date(),
    contentHash: contentHash(db.crypto, content), content, meta, status, attempts: 0,
  };
  return { unit, duplicate: r.duplicate, status, reasons, bundleType: bundle.type === 'batch' ? 'batch' : 'transaction', entries };
}

/** The status of a landed unit now, and its reasons if it is quarantined. */
export async function fhirUnitState(db: Queryable, unitId: number): Promise<{ status: UnitStatus; reasons?: QuarantineReason[] }> {
  const { rows } = await db.query<{ status: UnitStatus; reasons: QuarantineReason[] | null }>('SELECT status, reasons FROM landed_unit WHERE id = $1', [unitId]);
  return { status: rows[0]?.status ?? 'landed', reasons: rows[0]?.reasons ?? undefined };
}

/**
 * Records the verdict on a landed Bundle inside the transaction that wrote its resources: 'standardized' (no
 * reasons; `entryRefs` = what each posted entry became, `Type/id` or null, for its status URL) or 'quarantined' with
 * its reasons. Only a unit still 'landed' changes; false when another process (the worker rescuing it after a slow
 * request) settled it first — the caller then rolls its own work back.
 */
export async function settleFhirBundle(tx: Queryable, unitId: number, reasons: QuarantineReason[] | null, entryRefs?: Array<string | null>): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE landed_unit SET status = $2, reasons = $3::jsonb, last_error = NULL, attempts = attempts + 1, processed_at = now(), entry_refs = $4::jsonb
      WHERE id = $1 AND status = 'landed'`,
    [unitId, reasons ? 'quarantined' : 'standardized', reasons ? JSON.stringify(reasons) : null, !reasons && entryRefs ? JSON.stringify(entryRefs) : null],
  );
  return rowCount === 1;
}

/**
 * The answer to a Bundle that is a duplicate of one already standardized: not processed again (that could double
 * plain creates), a `*-response` Bundle whose entries say so.
 */
export function duplicateBundleResponse(landing: FhirLanding): Bundle {
  return {
    resourceType: 'Bundle',
    type: landing.bundleType === 'batch' ? 'batch-response' : 'transaction-response',
    entry: Array.from({ length: landing.entries }, () => ({
      response: {
        status: '200 OK',
        outcome: {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'information', code: 'duplicate', details: { text: `duplicate of landed unit ${landing.unit.id}, already processed (${landing.status})` } }],
        },
      },
    })),
  };
}

/** A landed unit as its status URL reports it (any channel). */
export interface UnitStatusReport {
  id: number;
  institutionId: string;
  channel: Channel;
  status: UnitStatus;
  reasons?: QuarantineReason[];
  bundleType: 'transaction' | 'batch';
  /** Source records (a Bundle: its entries). */
  records: number;
  receivedAt: Date;
  processedAt?: Date;
  /** Of a standardized unit: what each posted entry became (`Type/id`, or null: not stored); absent if not recorded. */
  entryRefs?: Array<string | null>;
  /** Of a unit still 'landed': units queued before it, counted up to AHEAD_CAP. */
  ahead?: number;
}

/** Queue positions are counted up to this many (a poll must stay cheap when the backlog is large). */
export const AHEAD_CAP = 10_000;

/** The state of one landed unit for its status URL, or undefined when there is no such unit. Two indexed reads at most. */
export async function unitStatusReport(db: Queryable, unitId: number): Promise<UnitStatusReport | undefined> {
  if (!Number.isSafeInteger(unitId) || unitId <= 0) return undefined;
  const { rows } = await db.query<{
    institution_id: string; channel: Channel; status: UnitStatus; reasons: QuarantineReason[] | null; meta: Record<string, unknown>; records: number;
    received_at: Date; processed_at: Date | null; entry_refs: Array<string | null> | null;
  }>('SELECT institution_id, channel, status, reasons, meta, records, received_at, processed_at, entry_refs FROM landed_unit WHERE id = $1', [unitId]);
  const r = rows[0];
  if (!r) return undefined;
  let ahead: number | undefined;
  if (r.status === 'landed') {
    const q = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM landed_unit WHERE status = 'landed' AND id < $1 LIMIT ${AHEAD_CAP}) x`, [unitId],
    );
    ahead = q.rows[0].n;
  }
  return {
    id: unitId, institutionId: r.institution_id, channel: r.channel, status: r.status, ...(r.reasons ? { reasons: r.reasons } : {}),
    bundleType: r.meta?.bundleType === 'batch' ? 'batch' : 'transaction', records: Number(r.records), receivedAt: new Date(r.received_at),
    ...(r.processed_at ? { processedAt: new Date(r.processed_at) } : {}), ...(r.entry_refs ? { entryRefs: r.entry_refs } : {}), ...(ahead !== undefined ? { ahead } : {}),
  };
}

/** The stored version a posted entry became: what the transaction-response says of it. */
export interface StoredEntry {
  resourceType: string;
  id: string;
  /** Absent only if the version cannot be found any more. */
  versionId?: number;
  lastUpdated?: Date;
  /** The unit's write created the resource (version 1 written by it): 201 rather than 200. */
  created: boolean;
}

/**
 * Per posted entry of a standardized unit, the version its standardization wrote (one read of the FHIR store's
 * history, by type and id, for all entries): the version whose meta.source is this unit (the highest, if it was
 * standardized again after a requeue); for an entry that wrote nothing — a returning patient's unchanged Patient —
 * the version current when the unit was processed. Null for an entry not stored.
 */
export async function storedEntries(db: Queryable, report: UnitStatusReport): Promise<Array<StoredEntry | null> | undefined> {
  if (!report.entryRefs) return undefined;
  const refs = report.entryRefs.map((ref) => (ref ? { resourceType: ref.slice(0, ref.indexOf('/')), id: ref.slice(ref.indexOf('/') + 1) } : null));
  const wanted = [...new Map(refs.flatMap((r) => (r ? [[`${r.resourceType}/${r.id}`, r] as const] : []))).values()];
  const found = new Map<string, { version_id: number; last_updated: Date; mine: boolean }>();
  if (wanted.length) {
    const { rows } = await db.query<{ resource_type: string; id: string; version_id: number; last_updated: Date; mine: boolean }>(
      `SELECT DISTINCT ON (h.resource_type, h.id) h.resource_type, h.id, h.version_id, h.last_updated, coalesce(h.content->'meta'->>'source' = $3, false) AS mine
         FROM fhir_resource_history h
        WHERE (h.resource_type, h.id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
          AND (h.content->'meta'->>'source' = $3 OR h.last_updated <= coalesce($4::timestamptz, now()))
        ORDER BY h.resource_type, h.id, coalesce(h.content->'meta'->>'source' = $3, false) DESC, h.version_id DESC`,
      [wanted.map((w) => w.resourceType), wanted.map((w) => w.id), landingSource(report.id), report.processedAt ?? null],
    );
    for (const row of rows) found.set(`${row.resource_type}/${row.id}`, row);
  }
  return refs.map((r) => {
    if (!r) return null;
    const v = found.get(`${r.resourceType}/${r.id}`);
    return v
      ? { ...r, versionId: Number(v.version_id), lastUpdated: new Date(v.last_updated), created: v.mine && Number(v.version_id) === 1 }
      : { ...r, created: false };
  });
}
