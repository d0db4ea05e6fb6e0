/**
 * Expectation–maximisation for the Fellegi–Sunter model (Winkler 1988; Splink's estimate_parameters_using_expectation
 * _maximisation). Runs on comparison-vector *patterns* with their counts — the database aggregates millions of pairs
 * into a few thousand patterns, so EM itself is tiny. Labelled pairs (review decisions) enter with a fixed class.
 */
export interface Pattern {
  gammas: number[];
  count: number;
  /** Known class from a review decision; undefined = unlabelled. */
  label?: boolean;
}

export interface EmInput {
  patterns: Pattern[];
  /** Number of levels per comparison. */
  levelCounts: number[];
  lambda: number;
  m: number[][];
  u: number[][];
  /** Estimate u too (default false: u comes from random pairs, as Splink does). */
  /** Estimate m (default true); false estimates λ alone with m and u fixed. */
  estimateM?: boolean;
  /**
   * Prior for m as pseudo-counts (Dirichlet): `mPriorWeight` pairs distributed as `mPrior`. Keeps a level that the data
   * barely show (a day-month swap in a small county) near its prior instead of collapsing to zero — which would make
   * one such error veto an otherwise certain match.
   */
  mPrior?: number[][];
  mPriorWeight?: number;
  estimateU?: boolean;
  maxIterations?: number;
  tolerance?: number;
}

export interface EmResult {
  lambda: number;
  m: number[][];
  u: number[][];
  iterations: number;
  converged: boolean;
  /** Expected number of matches among the (unlabelled) pairs at the final parameters. */
  expectedMatches: number;
}

const SMOOTH = 1e-3;

/** Runs EM to convergence (largest parameter change below `tolerance`). */
export function expectationMaximisation(input: EmInput): EmResult {
  let { lambda } = input;
  let m = input.m.map((x) => [...x]);
  let u = input.u.map((x) => [...x]);
  const K = input.levelCounts.length;
  const maxIt = input.maxIterations ?? 100;
  const tol = input.tolerance ?? 1e-5;
  let it = 0;
  let converged = false;
  while (it < maxIt) {
    it++;
    const mNum = input.levelCounts.map((n) => new Array<number>(n).fill(0));
    const uNum = input.levelCounts.map((n) => new Array<number>(n).fill(0));
    let sumP = 0;
    let total = 0;
    for (const pat of input.patterns) {
      let pm = lambda;
      let pu = 1 - lambda;
      for (let k = 0; k < K; k++) {
        const g = pat.gammas[k];
        if (g < 0) continue;
        pm *= m[k][g];
        pu *= u[k][g];
      }
      const p = pat.label === undefined ? pm / (pm + pu || 1) : pat.label ? 1 : 0;
      if (pat.label === undefined) {
        sumP += p * pat.count;
        total += pat.count;
      }
      for (let k = 0; k < K; k++) {
        const g = pat.gammas[k];
        if (g < 0) continue;
        mNum[k][g] += p * pat.count;
        uNum[k][g] += (1 - p) * pat.count;
      }
    }
    const newLambda = total ? sumP / total : lambda;
    const norm = (row: number[]) => {
      const s = row.reduce((a, b) => a + b, 0) + SMOOTH * row.length;
      return row.map((x) => (x + SMOOTH) / s);
    };
    const w = input.mPriorWeight ?? 0;
    const newM = input.estimateM === false
      ? m
      : input.mPrior && w > 0
      ? mNum.map((row, k) => {
          const s = row.reduce((a, b) => a + b, 0) + w;
          return row.map((x, g) => (x + w * input.mPrior![k][g]) / s);
        })
      : mNum.map(norm);
    const newU = input.estimateU ? uNum.map(norm) : u;
    let delta = Math.abs(newLambda - lambda);
    for (let k = 0; k < K; k++) for (let g = 0; g < newM[k].length; g++) delta = Math.max(delta, Math.abs(newM[k][g] - m[k][g]), Math.abs(newU[k][g] - u[k][g]));
    lambda = Math.min(Math.max(newLambda, 1e-9), 1 - 1e-9);
    m = newM;
    u = newU;
    if (delta < tol) {
      converged = true;
      break;
    }
  }
  return { lambda, m, u, iterations: it, converged, expectedMatches: expected(input.patterns, lambda, m, u, K) };
}

/** Σ count × P(match | γ) over the unlabelled patterns. */
function expected(patterns: Pattern[], lambda: number, m: number[][], u: number[][], K: number): number {
  let s = 0;
  for (const pat of patterns) {
    if (pat.label !== undefined) continue;
    let pm = lambda;
    let pu = 1 - lambda;
    for (let k = 0; k < K; k++) {
      const g = pat.gammas[k];
      if (g < 0) continue;
      pm *= m[k][g];
      pu *= u[k][g];
    }
    s += (pat.count * pm) / (pm + pu || 1);
  }
  return s;
}

/**
 * u from counted random pairs (almost all non-matches), smoothed so an unseen level is rare, not impossible. A
 * comparison seen in fewer than `minPairs` pairs (passports, when foreigners are few) keeps its `fallback` u.
 */
export function uFromRandomPairs(patterns: Pattern[], levelCounts: number[], fallback: number[][], minPairs = 1000): number[][] {
  return levelCounts.map((n, k) => {
    const counts = new Array<number>(n).fill(0);
    for (const p of patterns) if (p.gammas[k] >= 0) counts[p.gammas[k]] += p.count;
    const s = counts.reduce((a, b) => a + b, 0);
    if (s < minPairs) return fallback[k];
    return counts.map((c) => (c + 0.5) / (s + 0.5 * n));
  });
}
