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
 * Frequency of a name among all named records. The total is the batch count (row '') or, when records arrived since,
 * the planner's row estimate of empi_record — a lock-free figure, so that incremental mode never updates a shared row.
 */
export async function nameFrequency(q: Queryable, name: string): Promise<number | undefined> {
  const { rows } = await q.query<{ n: number | null; total: number | null }>(
    `SELECT (SELECT n FROM empi_name_tf WHERE name = $1) AS n,
       greatest((SELECT n FROM empi_name_tf WHERE name = ''), (SELECT reltuples::bigint FROM pg_class WHERE oid = 'empi_record'::regclass)) AS total`,
    [name],
  );
  const total = rows[0]?.total ?? undefined;
  const n = rows[0]?.n ?? undefined;
  if (!total || total < 1000) return undefined; // too few records for a frequency to mean anything: use the model's u
  return Math.max(n ?? 1, 1) / total;
}

/** Recounts every name from the records (batch mode), set-based. */
export async function recountNames(q: Queryable): Promise<void> {
  await q.exec(`DELETE FROM empi_name_tf;
    INSERT INTO empi_name_tf (name, n) SELECT name, count(*) FROM empi_record WHERE name IS NOT NULL AND status = 'active' GROUP BY name;
    INSERT INTO empi_name_tf (name, n) SELECT '', count(*) FROM empi_record WHERE name IS NOT NULL AND status = 'active'
      ON CONFLICT (name) DO UPDATE SET n = EXCLUDED.n;`);
}
