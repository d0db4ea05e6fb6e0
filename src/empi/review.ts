/**
 * The review queue (人工审核): pairs of records in the grey zone, shown side by side with the per-field evidence, and
 * decided by a person. Decisions are recorded (empi_decision, mode 'review') and fed back to training as labelled
 * pairs (`labelledPairs`), and a "not the same person" decision keeps the pair apart in later batch runs.
 */
import type { Queryable } from '../store/index.ts';
import { EmpiError } from './errors.ts';
import type { RecordFeatures } from './features.ts';
import { mergePersons } from './merge.ts';
import type { FieldEvidence } from './model.ts';
import { getPerson, getRecords, personOfPatient, type PersonView } from './registry.ts';

export interface ReviewItem {
  reviewId: number;
  patientKeyA: string;
  patientKeyB: string;
  weight: number;
  evidence: FieldEvidence[];
  reason: string | null;
  status: 'pending' | 'linked' | 'not-linked';
  decidedBy: string | null;
  createdAt: Date;
}

/** Queues a pair (stored in key order so a pair is queued once). Returns the new item's id, or undefined if known. */
export async function enqueueReview(q: Queryable, a: string, b: string, weight: number, evidence: FieldEvidence[], reason: string): Promise<number | undefined> {
  const [x, y] = a < b ? [a, b] : [b, a];
  const { rows } = await q.query<{ review_id: number }>(
    `INSERT INTO empi_review (patient_key_a, patient_key_b, weight, evidence, reason) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (patient_key_a, patient_key_b) DO NOTHING RETURNING review_id`,
    [x, y, weight, JSON.stringify(evidence), reason],
  );
  return rows[0]?.review_id;
}

function toItem(r: Record<string, unknown>): ReviewItem {
  return {
    reviewId: r.review_id as number,
    patientKeyA: r.patient_key_a as string,
    patientKeyB: r.patient_key_b as string,
    weight: r.weight as number,
    evidence: r.evidence as FieldEvidence[],
    reason: (r.reason as string) ?? null,
    status: r.status as ReviewItem['status'],
    decidedBy: (r.decided_by as string) ?? null,
    createdAt: r.created_at as Date,
  };
}

/** Review items, pending ones by default, highest weight first. */
export async function listReviews(q: Queryable, options: { status?: ReviewItem['status']; limit?: number; offset?: number } = {}): Promise<{ total: number; items: ReviewItem[] }> {
  const status = options.status ?? 'pending';
  const { rows } = await q.query(
    `SELECT *, count(*) OVER () AS total FROM empi_review WHERE status = $1 ORDER BY weight DESC, review_id LIMIT $2 OFFSET $3`,
    [status, options.limit ?? 50, options.offset ?? 0],
  );
  const total = rows.length ? (rows[0].total as number) : (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM empi_review WHERE status = $1', [status])).rows[0].n;
  return { total, items: rows.map(toItem) };
}

export interface ReviewSide {
  record: RecordFeatures;
  person?: PersonView;
}

/** One item with both records side by side, their persons (golden records) and the evidence. */
export async function getReview(q: Queryable, reviewId: number): Promise<{ item: ReviewItem; a: ReviewSide; b: ReviewSide } | undefined> {
  const { rows } = await q.query('SELECT * FROM empi_review WHERE review_id = $1', [reviewId]);
  if (!rows[0]) return undefined;
  const item = toItem(rows[0]);
  const [ra, rb] = await getRecords(q, [item.patientKeyA, item.patientKeyB]);
  const side = async (rec: RecordFeatures): Promise<ReviewSide> => {
    const pid = await personOfPatient(q, rec.patientKey);
    return { record: rec, person: pid ? await getPerson(q, pid) : undefined };
  };
  return { item, a: await side(ra), b: await side(rb) };
}

/**
 * Decides an item: `link` merges the two records' persons (the one with more records survives), `not-link` records
 * that they are different persons. Returns the merge event id when a merge happened.
 */
export async function decideReview(
  q: Queryable,
  reviewId: number,
  decision: 'link' | 'not-link',
  options: { actor?: string; note?: string } = {},
): Promise<{ status: ReviewItem['status']; mergeEventId?: number }> {
  const { rows } = await q.query('SELECT * FROM empi_review WHERE review_id = $1', [reviewId]);
  if (!rows[0]) throw new EmpiError('not-found', `no review item ${reviewId}`);
  const item = toItem(rows[0]);
  if (item.status !== 'pending') throw new EmpiError('conflict', `review item ${reviewId} was already decided (${item.status})`);
  const status = decision === 'link' ? 'linked' : 'not-linked';
  let mergeEventId: number | undefined;
  const pa = await personOfPatient(q, item.patientKeyA);
  const pb = await personOfPatient(q, item.patientKeyB);
  if (decision === 'link' && pa && pb && pa !== pb) {
    const size = async (p: string) =>
      (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM empi_record WHERE person_id = $1`, [p])).rows[0].n;
    const [survivor, merged] = (await size(pa)) >= (await size(pb)) ? [pa, pb] : [pb, pa];
    mergeEventId = await mergePersons(q, survivor, merged, { actor: options.actor, reason: `review ${reviewId}` });
  }
  await q.query(`UPDATE empi_review SET status = $2, decided_by = $3, decided_at = now() WHERE review_id = $1`, [reviewId, status, options.actor ?? null]);
  await q.query(
    `INSERT INTO empi_decision (patient_key, other_patient_key, person_id, outcome, mode, weight, evidence) VALUES ($1, $2, $3, $4, 'review', $5, $6)`,
    [item.patientKeyA, item.patientKeyB, decision === 'link' ? (pa ?? null) : null, decision === 'link' ? 'manual-link' : 'manual-not-link', item.weight, JSON.stringify(item.evidence)],
  );
  return { status, mergeEventId };
}

/** Decided pairs as labelled examples for re-estimating m and u (`true` = same person). */
export async function labelledPairs(q: Queryable): Promise<Array<{ a: string; b: string; match: boolean }>> {
  const { rows } = await q.query<{ patient_key_a: string; patient_key_b: string; status: string }>(
    `SELECT patient_key_a, patient_key_b, status FROM empi_review WHERE status <> 'pending'`,
  );
  return rows.map((r) => ({ a: r.patient_key_a, b: r.patient_key_b, match: r.status === 'linked' }));
}
