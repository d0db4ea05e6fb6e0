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

/**
 * Evaluates the registry's current links against `truth`. Records are keyed by patient_key, or (`by` =
 * 'institution-mrn') by `<institution code>|<MRN>` as the synthetic county's truth is — the code from the platform's
 * institution register when present (institution ids are the platform's own), else the institution id itself.
 */
export async function evaluateAgainst(q: Queryable, truth: Map<string, string>, by: 'patient-key' | 'institution-mrn' = 'patient-key'): Promise<Evaluation> {
  const hasInstitutions = (await q.query<{ t: string | null }>(`SELECT to_regclass('institution')::text AS t`)).rows[0].t !== null;
  const key =
    by === 'patient-key' ? 'r.patient_key' : hasInstitutions ? `COALESCE(i.code, r.institution_id) || '|' || r.local_value` : `r.institution_id || '|' || r.local_value`;
  const join = by === 'institution-mrn' && hasInstitutions ? 'LEFT JOIN institution i ON i.id = r.institution_id' : '';
  const { rows } = await q.query<{ patient_key: string; k: string; pid: string }>(
    `SELECT r.patient_key, ${key} AS k, CASE WHEN p.merged_into IS NULL THEN r.person_id ELSE empi_resolve(r.person_id) END AS pid
     FROM empi_record r JOIN empi_person p ON p.person_id = r.person_id ${join}`,
  );
  const keyOf = new Map(rows.map((r) => [r.patient_key, r.k]));
  const predicted = new Map(rows.map((r) => [r.k, r.pid]));
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
    const ka = keyOf.get(v.patient_key_a) ?? '';
    const kb = keyOf.get(v.patient_key_b) ?? '';
    const ta = truth.get(ka);
    if (ta === undefined || ta !== truth.get(kb)) continue;
    reviewTrueMatches++;
    const a = find(predicted.get(ka)!);
    const b = find(predicted.get(kb)!);
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

/**
 * Evaluates against a synthetic county's truth: a directory (the truth dir or the county dir holding truth/), or the
 * truth as a parsed map. Records are matched to the truth by institution code and MRN.
 */
export async function evaluate(q: Queryable, truth: string | Map<string, string>): Promise<Evaluation> {
  const { loadTruth } = await import('./truth.ts');
  return evaluateAgainst(q, typeof truth === 'string' ? loadTruth(truth) : truth, 'institution-mrn');
}
