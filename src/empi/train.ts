/**
 * Model training, as Splink does it: u from random record pairs (nearly all non-matches); m by EM on blocked pairs,
 * once per training blocking rule with the comparisons that rule forces to agree left out (pairs blocked on the
 * resident ID say nothing about how often a true match agrees on it); each comparison's m is the mean over the rules
 * that estimated it. Then λ — the probability that two random records match — from the expected number of matches
 * among all blocked pairs. Review decisions join every EM run as labelled pairs. The heavy steps are SQL
 * aggregations down to comparison-vector patterns; EM itself runs on a few thousand patterns.
 */
import type { Db, Queryable } from '../store/index.ts';
import { ruleBit } from './blocking.ts';
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
  /** Expected true matches among the blocked pairs. */
  expectedMatches: number;
}

const LEVEL_COUNTS = COMPARISONS.map((c) => c.levels.length);
const INDEX = Object.fromEntries(COMPARISONS.map((c, i) => [c.name, i]));

/** Training rules: the blocking rule and the comparisons it forces (or, for the resident ID, implies) to agree. */
const TRAINING_RULES: Array<{ prefix: string; exclude: string[] }> = [
  { prefix: 'r', exclude: ['rid', 'dob', 'sex'] },
  { prefix: 'n', exclude: ['name', 'dob'] },
  { prefix: 'p', exclude: ['phone'] },
  { prefix: 'd', exclude: ['dob', 'addr'] },
  { prefix: 'x', exclude: ['passport'] },
];

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

/**
 * The blocked pairs' comparison-vector patterns in one grouped scan of empi_batch_pair, by pattern and rule set; the
 * patterns of one training rule (pairs that rule produced) and of all pairs are sums of these rows.
 */
async function blockedPatternsByRules(q: Queryable): Promise<Array<Pattern & { rules: number }>> {
  const cols = GAMMA_COLUMNS.join(', ');
  const { rows } = await q.query(`SELECT ${cols}, rules, count(*) AS n FROM empi_batch_pair GROUP BY ${cols}, rules`);
  return toPatterns(rows).map((p, i) => ({ ...p, rules: Number(rows[i].rules) }));
}

/** The patterns of the pairs whose rule set has `bit` (every pair when undefined), merged by comparison vector. */
function patternsOf(byRules: Array<Pattern & { rules: number }>, bit?: number): Pattern[] {
  const out = new Map<string, Pattern>();
  for (const p of byRules) {
    if (bit !== undefined && (p.rules & bit) === 0) continue;
    const k = p.gammas.join(',');
    const have = out.get(k);
    if (have) have.count += p.count;
    else out.set(k, { gammas: p.gammas, count: p.count });
  }
  return [...out.values()];
}

/** Estimates m, u and λ from the data in the registry and stores them as the current model. */
export async function trainModel(
  db: Db,
  options: { sample?: number; maxIterations?: number; pairsReady?: boolean; q?: Queryable } = {},
): Promise<TrainResult> {
  const q = options.q ?? db;
  if (!options.pairsReady) await buildPairs(q, 'all');
  const random = await randomPairPatterns(q, options.sample ?? 50_000);
  const u = uFromRandomPairs(random, LEVEL_COUNTS, COMPARISONS.map((c) => DEFAULT_PARAMS.levels[c.name].u));
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
  const prior = COMPARISONS.map((c) => DEFAULT_PARAMS.levels[c.name].m);
  const byRules = await blockedPatternsByRules(q);
  const sums = COMPARISONS.map((c) => new Array<number>(c.levels.length).fill(0));
  const runs = new Array<number>(COMPARISONS.length).fill(0);
  let iterations = 0;
  let converged = true;
  for (const rule of TRAINING_RULES) {
    const excluded = new Set(rule.exclude.map((f) => INDEX[f]));
    const blind = (p: Pattern): Pattern => ({ ...p, gammas: p.gammas.map((g, k) => (excluded.has(k) ? -1 : g)) });
    const patterns = patternsOf(byRules, ruleBit(rule.prefix)).map(blind);
    if (patterns.reduce((s, p) => s + p.count, 0) < 50) continue; // too few pairs to learn from (e.g. no passports)
    const em = expectationMaximisation({
      patterns: [...patterns, ...labelled.map(blind)],
      levelCounts: LEVEL_COUNTS,
      lambda: 0.5,
      m: prior,
      u,
      mPrior: prior,
      mPriorWeight: 20,
      maxIterations: options.maxIterations ?? 200,
    });
    iterations += em.iterations;
    converged &&= em.converged;
    COMPARISONS.forEach((_, k) => {
      if (excluded.has(k)) return;
      em.m[k].forEach((x, g) => (sums[k][g] += x));
      runs[k]++;
    });
  }
  const m = COMPARISONS.map((_, k) => (runs[k] ? sums[k].map((x) => x / runs[k]) : prior[k]));
  // λ: expected matches among all blocked pairs (m, u fixed), over all pairs of records.
  const all = patternsOf(byRules);
  const fit = expectationMaximisation({ patterns: all, levelCounts: LEVEL_COUNTS, lambda: 0.1, m, u, estimateM: false, maxIterations: 200 });
  const records = (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM empi_record WHERE status = 'active'`)).rows[0].n;
  const totalPairs = Math.max(1, (records * (records - 1)) / 2);
  const lambda = Math.min(0.5, Math.max(fit.expectedMatches, 1) / totalPairs);
  const params: ModelParams = {
    lambda,
    source: 'em',
    levels: Object.fromEntries(COMPARISONS.map((c, k) => [c.name, { m: m[k], u: u[k] }])),
  };
  const modelId = await saveModel(q, params);
  return {
    modelId,
    params,
    iterations,
    converged,
    blockedPairs: all.reduce((s, p) => s + p.count, 0),
    randomPairs: random.reduce((s, p) => s + p.count, 0),
    labelledPairs: labelled.reduce((s, p) => s + p.count, 0),
    expectedMatches: fit.expectedMatches,
  };
}
