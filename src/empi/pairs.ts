/**
 * Batch blocking and comparison vectors, set-based: every blocked pair of records and its γ per comparison, computed
 * by the database in one INSERT … SELECT from the rendered comparison levels.
 */
import type { Queryable } from '../store/index.ts';
import { blockKeysInsertSql, MAX_BLOCK, ruleBitSql } from './blocking.ts';
import { COMPARISONS, GAMMA_COLUMNS, gammaSql } from './comparisons.ts';

/** Blocking keys for records that have none yet (staged ones); incremental records got theirs on arrival. */
export async function ensureBlockKeys(q: Queryable): Promise<void> {
  await q.query(blockKeysInsertSql(`person_id IS NULL AND NOT EXISTS (SELECT 1 FROM empi_block x WHERE x.patient_key = empi_record.patient_key)`));
}

/**
 * Fills empi_batch_pair with the blocked pairs and their comparison vectors. `scope` 'unassigned' keeps pairs with at
 * least one record not yet linked to a person (batch dedupe); 'all' keeps every pair (model training).
 */
export async function buildPairs(q: Queryable, scope: 'unassigned' | 'all'): Promise<number> {
  await q.exec('TRUNCATE empi_batch_pair');
  const keyFilter =
    scope === 'unassigned'
      ? `AND bool_or(r.person_id IS NULL)`
      : '';
  const pairFilter = scope === 'unassigned' ? 'AND (l.person_id IS NULL OR r.person_id IS NULL)' : '';
  const { rowCount } = await q.query(
    `WITH good AS (
       SELECT b.key FROM empi_block b JOIN empi_record r ON r.patient_key = b.patient_key
       GROUP BY b.key HAVING count(*) BETWEEN 2 AND ${MAX_BLOCK} ${keyFilter}
     ), cand AS (
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
