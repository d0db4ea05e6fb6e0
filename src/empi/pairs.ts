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
 * Fills empi_batch_pair with the blocked pairs and their comparison vectors, once per batch run (training and scoring
 * both read it). `scope` 'unassigned' keeps pairs with at least one record not yet linked to a person (batch dedupe);
 * 'all' keeps every pair (training on its own). The pairs are grouped by (a, b) — a pair shared by several rules is
 * compared once and remembers the rules in a bit set.
 *
 * Both steps are CREATE TABLE … AS, the only writing statements PostgreSQL runs with parallel workers: the grouping
 * and, above all, the comparison vectors (the similarity functions) then use both cores. The two work tables are
 * therefore re-created here (UNLOGGED, no index: they are read by full scans only), not truncated.
 */
export async function buildPairs(q: Queryable, scope: 'unassigned' | 'all'): Promise<number> {
  // An initial load has no linked record yet: then 'unassigned' is 'all', without joining the keys to the records.
  const anyLinked = scope === 'unassigned' && (await q.query('SELECT 1 FROM empi_record WHERE person_id IS NOT NULL LIMIT 1')).rows.length > 0;
  const good = anyLinked
    ? `SELECT b.key FROM empi_block b JOIN empi_record r ON r.patient_key = b.patient_key
       GROUP BY b.key HAVING count(*) BETWEEN 2 AND ${MAX_BLOCK} AND bool_or(r.person_id IS NULL)`
    : `SELECT key FROM empi_block GROUP BY key HAVING count(*) BETWEEN 2 AND ${MAX_BLOCK}`;
  const pairFilter = anyLinked ? 'AND (l.person_id IS NULL OR r.person_id IS NULL)' : '';
  await q.exec('DROP TABLE IF EXISTS empi_batch_cand; DROP TABLE IF EXISTS empi_batch_pair');
  await q.query(
    `CREATE UNLOGGED TABLE empi_batch_cand AS
     WITH good AS (${good})
     SELECT b1.patient_key AS a, b2.patient_key AS b, bit_or(${ruleBitSql('g.key')}) AS rules
     FROM good g JOIN empi_block b1 ON b1.key = g.key JOIN empi_block b2 ON b2.key = g.key AND b1.patient_key < b2.patient_key
     GROUP BY 1, 2`,
  );
  const { rowCount } = await q.query(
    `CREATE UNLOGGED TABLE empi_batch_pair AS
     SELECT c.a, c.b, ${COMPARISONS.map((cmp, i) => `${gammaSql(cmp)} AS ${GAMMA_COLUMNS[i]}`).join(', ')}, c.rules
     FROM empi_batch_cand c JOIN empi_record l ON l.patient_key = c.a JOIN empi_record r ON r.patient_key = c.b
     WHERE l.status = 'active' AND r.status = 'active' ${pairFilter}`,
  );
  await q.exec('DROP TABLE empi_batch_cand');
  // PostgreSQL reports the rows a CREATE TABLE … AS wrote; PGlite reports 0.
  return rowCount || (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM empi_batch_pair')).rows[0].n;
}
