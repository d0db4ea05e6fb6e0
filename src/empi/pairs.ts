/**
 * Batch blocking and comparison vectors, set-based: every blocked pair of records and its γ per comparison, computed
 * by the database in one INSERT … SELECT from the rendered comparison levels.
 */
import type { Queryable } from '../store/index.ts';
import { blockKeysInsertSql, MAX_BLOCK, ruleBitSql } from './blocking.ts';
import { COMPARISONS, GAMMA_COLUMNS, gammaSql } from './comparisons.ts';

/**
 * Blocking keys for records that have none yet (staged ones); incremental records got theirs on arrival. When the new
 * keys outnumber the existing ones (an initial load), the index is dropped and rebuilt once afterwards.
 */
export async function ensureBlockKeys(q: Queryable): Promise<void> {
  const where = `person_id IS NULL AND NOT EXISTS (SELECT 1 FROM empi_block x WHERE x.patient_key = empi_record.patient_key)`;
  const { rows } = await q.query<{ todo: number; have: number }>(
    `SELECT (SELECT count(*) FROM empi_record WHERE person_id IS NULL)::int AS todo, (SELECT count(DISTINCT patient_key) FROM empi_block)::int AS have`,
  );
  if (rows[0].todo > rows[0].have) {
    await withoutIndexes(q, 'empi_block', () => q.query(blockKeysInsertSql(where)));
  } else {
    await q.query(blockKeysInsertSql(where));
  }
}

/**
 * Runs a bulk write with the table's secondary indexes dropped, then rebuilds them (same definitions, read from
 * pg_indexes). Inside the caller's transaction, so a failure restores them.
 */
export async function withoutIndexes<T>(q: Queryable, table: string, fn: () => Promise<T>): Promise<T> {
  const { rows } = await q.query<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.tablename = $1 AND i.schemaname = current_schema()
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    [table],
  );
  for (const r of rows) await q.exec(`DROP INDEX ${r.indexname}`);
  const out = await fn();
  for (const r of rows) await q.exec(r.indexdef);
  return out;
}

/**
 * Fills empi_batch_pair with the blocked pairs and their comparison vectors. `scope` 'unassigned' keeps pairs with at
 * least one record not yet linked to a person (batch dedupe); 'all' keeps every pair (model training).
 */
export async function buildPairs(q: Queryable, scope: 'unassigned' | 'all'): Promise<number> {
  await q.exec('TRUNCATE empi_batch_pair');
  // 'all' needs no join to the records to pick the usable keys.
  const good =
    scope === 'unassigned'
      ? `SELECT b.key FROM empi_block b JOIN empi_record r ON r.patient_key = b.patient_key
         GROUP BY b.key HAVING count(*) BETWEEN 2 AND ${MAX_BLOCK} AND bool_or(r.person_id IS NULL)`
      : `SELECT key FROM empi_block GROUP BY key HAVING count(*) BETWEEN 2 AND ${MAX_BLOCK}`;
  const pairFilter = scope === 'unassigned' ? 'AND (l.person_id IS NULL OR r.person_id IS NULL)' : '';
  const { rowCount } = await q.query(
    `WITH good AS (${good}), cand AS (
       SELECT b1.patient_key AS a, b2.patient_key AS b, bit_or(${ruleBitSql('g.key')}) AS rules
       FROM good g JOIN empi_block b1 ON b1.key = g.key JOIN empi_block b2 ON b2.key = g.key AND b1.patient_key < b2.patient_key
       GROUP BY 1, 2
     )
     INSERT INTO empi_batch_pair (a, b, rules, ${GAMMA_COLUMNS.join(', ')})
     SELECT c.a, c.b, c.rules, ${COMPARISONS.map(gammaSql).join(', ')}
     FROM cand c JOIN empi_record l ON l.patient_key = c.a JOIN empi_record r ON r.patient_key = c.b
     WHERE l.status = 'active' AND r.status = 'active' ${pairFilter}`,
  );
  return rowCount;
}
