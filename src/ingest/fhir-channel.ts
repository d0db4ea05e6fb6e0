import type { Bundle } from '@medplum/fhirtypes';
import type { Db, Queryable } from '../store/index.ts';
import { contentHash, landUnits } from './landing.ts';
import type { LandedUnit, QuarantineReason, UnitStatus } from './types.ts';

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
 * The FHIR channel's landing step (issue 4): an institution's transaction/batch Bundle is written verbatim to the
 * landing store BEFORE it is standardized, so that received = standardized + quarantined + duplicates holds for FHIR
 * too. `raw` is the request body as received (bytes or text); `parsed` the JSON the HTTP layer parsed. One statement
 * for a new Bundle; a duplicate costs one more (its status and reasons, to answer it without processing it twice).
 * The caller then standardizes `unit` and records the verdict with `settleFhirBundle`; the worker takes over a FHIR
 * unit only if it is left 'landed' (a crash) for two minutes.
 */
export async function landFhirBundle(db: Db, institutionId: string, raw: string | Uint8Array | undefined, parsed: unknown): Promise<FhirLanding> {
  const content = raw === undefined ? Buffer.from(JSON.stringify(parsed)) : typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const bundle = parsed as Bundle;
  const entries = bundle.entry?.length ?? 0;
  const meta = { bundleType: bundle.type, entries, ...(raw === undefined ? { reserialized: true } : {}) };
  const [r] = await landUnits(db, [
    { institutionId, channel: 'fhir', contentType: FHIR_CONTENT_TYPE, encoding: 'utf-8', content, records: Math.max(1, entries), meta },
  ]);
  const { status, reasons } = r.duplicate ? await fhirUnitState(db, r.id) : { status: 'landed' as const, reasons: undefined };
  const unit: LandedUnit = {
    id: r.id, institutionId, channel: 'fhir', contentType: FHIR_CONTENT_TYPE, encoding: 'utf-8', receivedAt: new Date(),
    contentHash: contentHash(content), content, meta, status, attempts: 0,
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
 * reasons) or 'quarantined' with its reasons. Only a unit still 'landed' changes; false when another process (the
 * worker rescuing it after a slow request) settled it first — the caller then rolls its own work back.
 */
export async function settleFhirBundle(tx: Queryable, unitId: number, reasons: QuarantineReason[] | null): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE landed_unit SET status = $2, reasons = $3::jsonb, last_error = NULL, attempts = attempts + 1, processed_at = now()
      WHERE id = $1 AND status = 'landed'`,
    [unitId, reasons ? 'quarantined' : 'standardized', reasons ? JSON.stringify(reasons) : null],
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
