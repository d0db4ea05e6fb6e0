import type { Bundle, OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Db } from '../store/index.ts';
import { landUnits } from './landing.ts';
import { landingSource, type UnitStatus } from './types.ts';

export const FHIR_CONTENT_TYPE = 'application/fhir+json';

/** A Bundle landed before the FHIR layer processes it. */
export interface FhirLanding {
  unitId: number;
  duplicate: boolean;
  /** Status of the landed unit now ('landed' = not processed yet, e.g. the first attempt crashed). */
  status: UnitStatus;
  /** The Bundle to process: each entry's resource carries `meta.source` = its landed unit (lineage). */
  body: unknown;
}

/** True for what `landFhirBundle` applies to: a transaction or batch Bundle. */
export function isIngestBundle(body: unknown): body is Bundle {
  const b = body as Bundle | undefined;
  return !!b && typeof b === 'object' && b.resourceType === 'Bundle' && (b.type === 'transaction' || b.type === 'batch');
}

/**
 * The FHIR channel's landing step (issue 4): an institution's transaction/batch Bundle is written verbatim to the
 * landing store BEFORE the FHIR layer processes it, so that received = standardized + quarantined + duplicates holds
 * for FHIR too. `raw` is the request body as received (bytes or text); `parsed` the JSON the HTTP layer parsed.
 * The FHIR layer then processes `body` (lineage added) unless the unit is a duplicate already settled, and reports
 * the result with `settleFhirBundle`. The worker only takes over a FHIR unit left 'landed' by a crash (after 2 min).
 */
export async function landFhirBundle(db: Db, institutionId: string, raw: string | Uint8Array | undefined, parsed: unknown): Promise<FhirLanding> {
  const content = raw === undefined ? Buffer.from(JSON.stringify(parsed)) : typeof raw === 'string' ? Buffer.from(raw) : raw;
  const bundle = parsed as Bundle;
  const [r] = await landUnits(db, [
    {
      institutionId, channel: 'fhir', contentType: FHIR_CONTENT_TYPE, encoding: 'utf-8', content, records: Math.max(1, bundle.entry?.length ?? 0),
      meta: { bundleType: bundle.type, entries: bundle.entry?.length ?? 0, ...(raw === undefined ? { reserialized: true } : {}) },
    },
  ]);
  const { rows } = await db.query<{ status: UnitStatus }>('SELECT status FROM landed_unit WHERE id = $1', [r.id]);
  return { unitId: r.id, duplicate: r.duplicate, status: rows[0]?.status ?? 'landed', body: withLineage(bundle, r.id) };
}

/** Copies the Bundle with `meta.source = urn:healthbrain:landing:<unit>` on every entry's resource. */
function withLineage(bundle: Bundle, unitId: number): Bundle {
  const source = landingSource(unitId);
  return {
    ...bundle,
    entry: bundle.entry?.map((e) => (e.resource ? { ...e, resource: { ...e.resource, meta: { ...e.resource.meta, source } } } : e)),
  };
}

/**
 * Records the FHIR layer's verdict on a landed Bundle: 'standardized' when it was accepted, 'quarantined' with the
 * OperationOutcome's issues as reasons when it was refused. Only a unit still 'landed' changes (idempotent).
 */
export async function settleFhirBundle(db: Db, landing: FhirLanding, accepted: boolean, outcome?: OperationOutcome): Promise<void> {
  const reasons = accepted
    ? null
    : JSON.stringify(
        (outcome?.issue ?? [{ severity: 'error', code: 'invalid' } as OperationOutcomeIssue]).filter((i) => i.severity !== 'information').map((i) => ({
          code: `fhir-${i.code}`, detail: i.details?.text ?? i.diagnostics, element: i.expression?.[0],
        })),
      );
  await db.query(
    `UPDATE landed_unit SET status = $2, reasons = $3::jsonb, attempts = attempts + 1, processed_at = now() WHERE id = $1 AND status = 'landed'`,
    [landing.unitId, accepted ? 'standardized' : 'quarantined', reasons],
  );
}

/**
 * The answer to a Bundle that is a duplicate of one already processed: not processed again (that could double
 * plain creates), a `*-response` Bundle whose entries say so.
 */
export function duplicateBundleResponse(landing: FhirLanding): Bundle {
  const b = landing.body as Bundle;
  return {
    resourceType: 'Bundle',
    type: b.type === 'batch' ? 'batch-response' : 'transaction-response',
    entry: (b.entry ?? []).map(() => ({
      response: {
        status: '200 OK',
        outcome: {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'information', code: 'duplicate', details: { text: `duplicate of landed unit ${landing.unitId}, already processed (${landing.status})` } }],
        },
      },
    })),
  };
}
