/**
 * Model training: u from random record pairs (nearly all non-matches), m and the prior λ by EM on the blocked pairs,
 * with review decisions as labelled pairs. Both heavy steps are SQL aggregations down to comparison-vector patterns.
 */
import type { Db, Queryable } from '../store/index.ts';
import { COMPARISONS, GAMMA_COLUMNS, gammaSql } from './comparisons.ts';
import { expectationMaximisation, uFromRandomPairs, type Pattern } from './em.ts';
import { DEFAULT_PARAMS, type ModelParams } from './model.ts';
import { saveModel } from './model-store.ts';
import { buildPairs } from './pairs.ts';

export interface TrainResult {
  modelId: number;
  params: ModelParams;
  iterations: number;
  converged: boolean;
  blockedPairs: number;
  randomPairs: number;
  labelledPairs: number;
}

const LEVEL_COUNTS = COMPARISONS.map((c) => c.levels.length);

function toPatterns(rows: Array<Record<string, unknown>>, label?: (r: Record<string, unknown>) => boolean | undefined): Pattern[] {
  return rows.map((r) => ({ gammas: GAMMA_COLUMNS.map((c) => Number(r[c])), count: Number(r.n), label: label?.(r) }));
}

/** Comparison-vector patterns of `sample` random pairs of active records. */
export async function randomPairPatterns(q: Queryable, sample: number): Promise<Pattern[]> {
  const { rows } = await q.query(
    `WITH recs AS (SELECT *, row_number() OVER (ORDER BY patient_key) AS rn FROM empi_record WHERE status = 'active'),
     n AS (SELECT count(*) AS n FROM recs),
     picks AS (SELECT 1 + floor(random() * n.n)::bigint AS i, 1 + floor(random() * n.n)::bigint AS j FROM generate_series(1, $1::int), n)
     SELECT ${COMPARISONS.map((c, k) => `${gammaSql(c)} AS ${GAMMA_COLUMNS[k]}`).join(', ')}, count(*) AS n
     FROM picks JOIN recs l ON l.rn = picks.i JOIN recs r ON r.rn = picks.j
     WHERE l.patient_key <> r.patient_key
     GROUP BY ${GAMMA_COLUMNS.map((_, k) => k + 1).join(', ')}`,
    [sample],
  );
  return toPatterns(rows);
}

/** Estimates m, u and λ from the data in the registry and stores them as the current model. */
export async function trainModel(
  db: Db,
  options: { sample?: number; maxIterations?: number; pairsReady?: boolean; q?: Queryable } = {},
): Promise<TrainResult> {
  const q = options.q ?? db;
  const sample = options.sample ?? 200_000;
  if (!options.pairsReady) await buildPairs(q, 'all');
  const random = await randomPairPatterns(q, sample);
  const u = uFromRandomPairs(random, LEVEL_COUNTS);
  const blocked = toPatterns(
    (await q.query(`SELECT ${GAMMA_COLUMNS.join(', ')}, count(*) AS n FROM empi_batch_pair GROUP BY ${GAMMA_COLUMNS.join(', ')}`)).rows,
  );
  const labelled = toPatterns(
    (
      await q.query(
        `SELECT ${COMPARISONS.map((c, k) => `${gammaSql(c)} AS ${GAMMA_COLUMNS[k]}`).join(', ')}, (v.status = 'linked') AS is_match, count(*) AS n
         FROM empi_review v JOIN empi_record l ON l.patient_key = v.patient_key_a JOIN empi_record r ON r.patient_key = v.patient_key_b
         WHERE v.status <> 'pending' GROUP BY ${GAMMA_COLUMNS.map((_, k) => k + 1).join(', ')}, ${GAMMA_COLUMNS.length + 1}`,
      )
    ).rows,
    (r) => Boolean(r.is_match),
  );
  const init = DEFAULT_PARAMS;
  const em = expectationMaximisation({
    patterns: [...blocked, ...labelled],
    levelCounts: LEVEL_COUNTS,
    lambda: init.lambda,
    m: COMPARISONS.map((c) => init.levels[c.name].m),
    u,
    maxIterations: options.maxIterations ?? 200,
  });
  const params: ModelParams = {
    lambda: em.lambda,
    source: 'em',
    levels: Object.fromEntries(COMPARISONS.map((c, k) => [c.name, { m: em.m[k], u: em.u[k] }])),
  };
  const modelId = await saveModel(q, params);
  return {
    modelId,
    params,
    iterations: em.iterations,
    converged: em.converged,
    blockedPairs: blocked.reduce((s, p) => s + p.count, 0),
    randomPairs: random.reduce((s, p) => s + p.count, 0),
    labelledPairs: labelled.reduce((s, p) => s + p.count, 0),
  };
}
