/** Persistence of model parameters and name term frequencies. */
import type { Queryable } from '../store/index.ts';
import { DEFAULT_PARAMS, type ModelParams } from './model.ts';

/** The newest trained model, or the default constants when none was trained yet. */
export async function loadModel(q: Queryable): Promise<{ modelId: number | null; params: ModelParams }> {
  const { rows } = await q.query<{ model_id: number; params: ModelParams }>('SELECT model_id, params FROM empi_model ORDER BY model_id DESC LIMIT 1');
  return rows[0] ? { modelId: rows[0].model_id, params: rows[0].params } : { modelId: null, params: DEFAULT_PARAMS };
}

export async function saveModel(q: Queryable, params: ModelParams): Promise<number> {
  const { rows } = await q.query<{ model_id: number }>('INSERT INTO empi_model (params) VALUES ($1) RETURNING model_id', [JSON.stringify(params)]);
  return rows[0].model_id;
}

/**
 * SQL of the two figures a name's frequency is computed from (`frequencyOf`), for a name given as `nameExpr`: its
 * count, and the total — the batch count (row '') or, when records arrived since, the planner's row estimate of
 * empi_record — a lock-free figure, so that incremental mode never updates a shared row.
 */
export function nameCountSql(nameExpr: string): { n: string; total: string } {
  return {
    n: `(SELECT n FROM empi_name_tf WHERE name = ${nameExpr})`,
    total: `greatest((SELECT n FROM empi_name_tf WHERE name = ''), (SELECT reltuples::bigint FROM pg_class WHERE oid = 'empi_record'::regclass))`,
  };
}

/** A name's frequency from its count and the total; undefined when too few records for a frequency to mean anything. */
export function frequencyOf(n: number | null | undefined, total: number | null | undefined): number | undefined {
  if (!total || total < 1000) return undefined; // the model's u is used instead
  return Math.max(n ?? 1, 1) / total;
}

/** Frequency of a name among all named records (see `nameCountSql`). */
export async function nameFrequency(q: Queryable, name: string): Promise<number | undefined> {
  const sql = nameCountSql('$1');
  const { rows } = await q.query<{ n: number | null; total: number | null }>(`SELECT ${sql.n} AS n, ${sql.total} AS total`, [name]);
  return frequencyOf(rows[0]?.n, rows[0]?.total);
}

/** Recounts every name from the records (batch mode), set-based. */
export async function recountNames(q: Queryable): Promise<void> {
  await q.exec(`DELETE FROM empi_name_tf;
    INSERT INTO empi_name_tf (name, n) SELECT name, count(*) FROM empi_record WHERE name IS NOT NULL AND status = 'active' GROUP BY name;
    INSERT INTO empi_name_tf (name, n) SELECT '', count(*) FROM empi_record WHERE name IS NOT NULL AND status = 'active'
      ON CONFLICT (name) DO UPDATE SET n = EXCLUDED.n;`);
}
