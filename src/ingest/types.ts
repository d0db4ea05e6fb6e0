import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../store/index.ts';

/** The channels an institution sends through (issue 4). */
export type Channel = 'fhir' | 'hl7-mllp' | 'hl7-http' | 'csv';

export type UnitStatus = 'landed' | 'standardized' | 'quarantined';

/** One inbound unit as a channel hands it to the landing store: the bytes exactly as they arrived. */
export interface UnitInput {
  institutionId: string;
  channel: Channel;
  /** e.g. `x-application/hl7-v2+er7`, `application/fhir+json`, `text/csv` */
  contentType: string;
  /** Detected character encoding of `content`: 'utf-8' or 'gbk' (GB 18030 superset). */
  encoding: string;
  content: Uint8Array;
  /** What the channel learnt on the way in (HL7 MSH-9/MSH-10, CSV table/columns/row …). */
  meta?: Record<string, unknown>;
  /** A channel may know at once that a unit cannot be standardized (a CSV row with a wrong field count): it is
   * landed already quarantined, so that it is kept and counted, never dropped. */
  quarantine?: QuarantineReason[];
  /** Source records the unit holds, for feed counts (a FHIR Bundle: its entries); default 1. */
  records?: number;
}

/** A unit as stored in `landed_unit`. */
export interface LandedUnit {
  id: number;
  institutionId: string;
  channel: Channel;
  contentType: string;
  encoding: string;
  receivedAt: Date;
  contentHash: string;
  content: Buffer;
  meta: Record<string, unknown>;
  status: UnitStatus;
  attempts: number;
}

/** A machine-readable reason a unit was quarantined; `code` is stable (e.g. `standardizer-missing`, `csv-field-count`). */
export interface QuarantineReason {
  code: string;
  detail?: string;
  /** Where in the unit: an HL7 field (`PID-3`), a CSV column, a FHIRPath. */
  element?: string;
}

/**
 * A unit standardized (its resources; for a unit of several source records — a FHIR Bundle — optionally what each
 * record became, `Type/id` or null for one not stored: the worker records it with the unit's status, for the status
 * URL of an asynchronously posted Bundle), or quarantined with its reasons.
 */
export type StandardizeResult = { resources: Resource[]; entryRefs?: Array<string | null> } | { quarantine: QuarantineReason[] };

/**
 * The seam between landing and standardization: turns one landed unit into canonical FHIR resources, or says why it
 * cannot. It runs inside the worker's transaction `tx`, so anything it writes commits or rolls back together with the
 * unit's status change (that is what makes a retry after a crash idempotent).
 */
export type Standardizer = (unit: LandedUnit, tx: Queryable) => Promise<StandardizeResult>;

/** Writes a unit's standardized resources (the FHIR repository) inside the worker's transaction. */
export type ResourceWriter = (tx: Queryable, resources: Resource[], unit: LandedUnit) => Promise<void>;

/** Lineage of every standardized resource to the unit it came from: `meta.source` (FHIR R4 Meta.source). */
export function landingSource(unitId: number): string {
  return `urn:healthbrain:landing:${unitId}`;
}

/** The outcome of landing one unit. */
export interface LandResult {
  /** Landed unit id (the existing one for a duplicate). */
  id: number;
  duplicate: boolean;
}
