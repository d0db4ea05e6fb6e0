/**
 * Evaluation against a ground truth (the synthetic county's true person per source record): pairwise precision,
 * recall and F1 of the automatic links (Christen 2012, "Data Matching", ch. 7), and the review-queue size.
 */
import type { Queryable } from '../store/index.ts';

export interface Evaluation {
  records: number;
  truePersons: number;
  predictedPersons: number;
  truePairs: number;
  predictedPairs: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
  reviewPending: number;
  /** Review items whose two records truly are one person (what a perfect reviewer would link). */
  reviewTrueMatches: number;
  /** Recall if every pending review item were decided correctly. */
  recallAfterReview: number;
  reviewPercentOfPersons: number;
}

const pairs = (n: number) => (n * (n - 1)) / 2;

/** Pairwise metrics of predicted clusters against true clusters over the records present in both. */
export function pairwiseMetrics(predicted: Map<string, string>, truth: Map<string, string>): Pick<Evaluation, 'records' | 'truePersons' | 'predictedPersons' | 'truePairs' | 'predictedPairs' | 'truePositives' | 'precision' | 'recall' | 'f1'> {
  const pred = new Map<string, number>();
  const tru = new Map<string, number>();
  const cell = new Map<string, number>();
  let records = 0;
  for (const [key, p] of predicted) {
    const t = truth.get(key);
    if (t === undefined) continue;
    records++;
    pred.set(p, (pred.get(p) ?? 0) + 1);
    tru.set(t, (tru.get(t) ?? 0) + 1);
    const c = `${p}\u0000${t}`;
    cell.set(c, (cell.get(c) ?? 0) + 1);
  }
  let predictedPairs = 0;
  let truePairs = 0;
  let truePositives = 0;
  for (const n of pred.values()) predictedPairs += pairs(n);
  for (const n of tru.values()) truePairs += pairs(n);
  for (const n of cell.values()) truePositives += pairs(n);
  const precision = predictedPairs ? truePositives / predictedPairs : 1;
  const recall = truePairs ? truePositives / truePairs : 1;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { records, truePersons: tru.size, predictedPersons: pred.size, truePairs, predictedPairs, truePositives, precision, recall, f1 };
}

/** Evaluates the registry's current links against `truth` (patient_key → true person id). */
export async function evaluateAgainst(q: Queryable, truth: Map<string, string>): Promise<Evaluation> {
  const { rows } = await q.query<{ patient_key: string; pid: string }>(
    `SELECT r.patient_key, CASE WHEN p.merged_into IS NULL THEN r.person_id ELSE empi_resolve(r.person_id) END AS pid
     FROM empi_record r JOIN empi_person p ON p.person_id = r.person_id`,
  );
  const predicted = new Map(rows.map((r) => [r.patient_key, r.pid]));
  const m = pairwiseMetrics(predicted, truth);
  const reviews = (await q.query<{ patient_key_a: string; patient_key_b: string }>(`SELECT patient_key_a, patient_key_b FROM empi_review WHERE status = 'pending'`)).rows;
  let reviewTrueMatches = 0;
  // A correct "link" decision merges the two persons: simulate it to know the recall after review.
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.has(r)) r = parent.get(r)!;
    return r;
  };
  for (const v of reviews) {
    const ta = truth.get(v.patient_key_a);
    if (ta === undefined || ta !== truth.get(v.patient_key_b)) continue;
    reviewTrueMatches++;
    const a = find(predicted.get(v.patient_key_a)!);
    const b = find(predicted.get(v.patient_key_b)!);
    if (a !== b) parent.set(a, b);
  }
  const after = pairwiseMetrics(new Map([...predicted].map(([k, p]) => [k, find(p)])), truth);
  return {
    ...m,
    reviewPending: reviews.length,
    reviewTrueMatches,
    recallAfterReview: after.recall,
    reviewPercentOfPersons: m.truePersons ? (100 * reviews.length) / m.truePersons : 0,
  };
}

/** Evaluates against a synthetic county's truth directory (format: docs/SYNTH.md). */
export async function evaluate(q: Queryable, truthDir: string): Promise<Evaluation> {
  const { loadTruth } = await import('./truth.ts');
  return evaluateAgainst(q, await loadTruth(truthDir));
}
