/**
 * Fellegi–Sunter scoring (Fellegi & Sunter 1969, as in Splink): each comparison level has m = P(level | match) and
 * u = P(level | non-match); the match weight of a pair is log2(λ/(1-λ)) + Σ log2(m/u) over its non-null comparisons,
 * with the per-field terms kept for explanation. Agreement on a name is weighed by how common that name is
 * (term-frequency adjustment: u of the exact level replaced by the name's frequency).
 */
import { COMPARISONS, comparisonVector } from './comparisons.ts';
import type { RecordFeatures } from './features.ts';

export interface LevelParams {
  m: number[];
  u: number[];
}

export interface ModelParams {
  /** Prior probability that a blocked candidate pair is a match. */
  lambda: number;
  levels: Record<string, LevelParams>;
  /** Where the numbers came from ('default' hand constants, or 'em'). */
  source: string;
}

/**
 * Starting values: used until the first training run, as EM's starting point and as its prior for m. Rounded from a
 * run on the synthetic county (issue 3), with room left for errors it does not inject (birth-date typos).
 * λ is the probability that two random records are one person (≈ records per person / number of records).
 */
export const DEFAULT_PARAMS: ModelParams = {
  lambda: 0.0001,
  source: 'default',
  levels: {
    rid: { m: [0.95, 0.02, 0.01, 0.02], u: [0.0003, 0.00001, 0.00001, 0.99968] },
    name: { m: [0.93, 0.033, 0.02, 0.005, 0.012], u: [0.0006, 0.00007, 0.0073, 0.0003, 0.99173] },
    dob: { m: [0.95, 0.01, 0.015, 0.005, 0.005, 0.015], u: [0.0004, 0.00001, 0.0014, 0.00065, 0.0118, 0.98574] },
    sex: { m: [0.99, 0.01], u: [0.5, 0.5] },
    phone: { m: [0.75, 0.25], u: [0.0005, 0.9995] },
    addr: { m: [0.95, 0.03, 0.02], u: [0.0066, 0.117, 0.8764] },
    passport: { m: [0.95, 0.02, 0.03], u: [0.00005, 0.0001, 0.99985] },
  },
};

export interface FieldEvidence {
  field: string;
  gamma: number;
  level: string;
  /** log2 Bayes factor this field contributed (0 when null). */
  weight: number;
  /** Frequency of the agreed name when the TF adjustment applied. */
  tf?: number;
}

export interface PairScore {
  weight: number;
  probability: number;
  gammas: number[];
  evidence: FieldEvidence[];
}

export const log2 = (x: number) => Math.log(x) / Math.LN2;

/** Converts a match weight (log2 odds) to a probability. */
export function probabilityOf(weight: number): number {
  return 1 / (1 + 2 ** -weight);
}

/** log2 Bayes factor of one comparison level, with the TF-adjusted u when a frequency is given. */
export function levelWeight(p: ModelParams, field: string, gamma: number, tf?: number): number {
  if (gamma < 0) return 0;
  const lv = p.levels[field];
  const u = tf !== undefined ? Math.max(tf, 1e-7) : lv.u[gamma];
  return log2(lv.m[gamma] / u);
}

/** Scores a comparison vector; `nameTf` is the frequency of the agreed name (exact level only). */
export function scoreVector(p: ModelParams, gammas: number[], nameTf?: number): PairScore {
  let weight = log2(p.lambda / (1 - p.lambda));
  const evidence: FieldEvidence[] = [];
  COMPARISONS.forEach((c, i) => {
    const g = gammas[i];
    const tf = c.tfLevel !== undefined && g === c.tfLevel ? nameTf : undefined;
    const w = levelWeight(p, c.name, g, tf);
    weight += w;
    evidence.push({ field: c.name, gamma: g, level: g < 0 ? 'null' : c.levels[g].label, weight: round(w), ...(tf !== undefined ? { tf } : {}) });
  });
  return { weight, probability: probabilityOf(weight), gammas, evidence };
}

/** Scores two records. */
export function scorePair(p: ModelParams, l: RecordFeatures, r: RecordFeatures, nameTf?: (name: string) => number | undefined): PairScore {
  const gammas = comparisonVector(l, r);
  const nameIdx = COMPARISONS.findIndex((c) => c.name === 'name');
  const tf = gammas[nameIdx] === 0 && l.name ? nameTf?.(l.name) : undefined;
  return scoreVector(p, gammas, tf);
}

/** SQL expression of the match weight over the batch table's γ columns and a joined name frequency `tf`. */
export function weightSql(p: ModelParams, tfExpr: string): string {
  const terms = COMPARISONS.map((c) => {
    const lv = p.levels[c.name];
    const whens = lv.m.map((m, g) => {
      const plain = `WHEN ${g} THEN ${log2(m / lv.u[g])}`;
      if (c.tfLevel === g) {
        return `WHEN ${g} THEN CASE WHEN (${tfExpr}) IS NULL THEN ${log2(m / lv.u[g])} ELSE ln(${m}::float8 / greatest((${tfExpr})::float8, 1e-7)) / ln(2) END`;
      }
      return plain;
    });
    return `(CASE g_${c.name} ${whens.join(' ')} ELSE 0 END)`;
  });
  return `(${log2(p.lambda / (1 - p.lambda))} + ${terms.join(' + ')})`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
