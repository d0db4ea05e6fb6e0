import type { Queryable } from '../store/index.ts';
import { blockKeys } from './blocking.ts';
import type { RecordFeatures } from './features.ts';

/**
 * Takes at once, in one global order, the advisory locks that incremental matching takes per record before it
 * creates a person (migration 0450: `hashtextextended('empi-block:' || key, 0)` of each blocking key). For a
 * transaction that matches several incoming records (a FHIR Bundle of many patients): locking each record's keys as it
 * is matched would take keys in an order that depends on the records, and two such transactions deadlock; locked
 * together in hash order first, the per-record locks are then already held. Returns how many keys were locked.
 */
export async function lockBlockKeys(tx: Queryable, records: RecordFeatures[]): Promise<number> {
  return lockKeys(tx, records.flatMap((f) => blockKeys(f)));
}

/** The same on blocking keys already computed. */
export async function lockKeys(tx: Queryable, blockingKeys: string[]): Promise<number> {
  const keys = [...new Set(blockingKeys)];
  if (!keys.length) return 0;
  // The sorted subquery feeds the aggregate row by row: the locks are taken in hash order.
  await tx.query(
    `SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT hashtextextended('empi-block:' || k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s`,
    [keys],
    { prepare: true },
  );
  return keys.length;
}
