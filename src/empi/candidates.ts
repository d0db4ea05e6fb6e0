/**
 * Incremental candidate search and scoring: the blocking keys of one record are looked up in the index (bounded per
 * key, keys over MAX_BLOCK records skipped), each candidate record is scored in JS with the same comparisons the batch
 * renders to SQL, and the candidates are grouped by the person they resolve to (best record per person).
 *
 * The SQL is a fragment (`candidateSql`) so that incremental mode runs it inside the statement that also writes the
 * incoming record (one round trip), and again under the blocking keys' advisory locks before it creates a person.
 */
import type { Queryable } from '../store/index.ts';
import { blockKeys, MAX_BLOCK } from './blocking.ts';
import { RECORD_COLUMNS } from './comparisons.ts';
import { decide, DEFAULT_THRESHOLDS, type Decision, type Thresholds } from './decision.ts';
import type { RecordFeatures } from './features.ts';
import { scorePair, type ModelParams, type PairScore } from './model.ts';
import { nameFrequency } from './model-store.ts';
import { rowToFeatures } from './registry.ts';

export interface PersonCandidate {
  /** The person the candidate resolves to now (through merges). */
  personId: string;
  /** The candidate's own (direct) person: a new link goes there so that an unmerge keeps it with its true match. */
  directPersonId: string;
  /** The best-scoring record of that person. */
  patientKey: string;
  record: RecordFeatures;
  score: PairScore;
  decision: Decision;
}

/** A candidate row: the record's columns, its direct and resolved person, `updated_at`. */
export type CandidateRow = Record<string, unknown>;

/**
 * SELECT of the candidate records of a record whose blocking keys are `keysParam` (text[]), excluding `pkParam`.
 * Besides the record columns: its direct and resolved person and `updated_at` (for the golden record of a link).
 */
export function candidateSql(keysParam: string, pkParam: string): string {
  return `WITH hits AS (
       SELECT k.key, b.patient_key FROM unnest(${keysParam}::text[]) AS k(key)
       CROSS JOIN LATERAL (SELECT patient_key FROM empi_block WHERE key = k.key LIMIT ${MAX_BLOCK + 1}) b
     ), usable AS (
       SELECT patient_key FROM hits WHERE key IN (SELECT key FROM hits GROUP BY key HAVING count(*) <= ${MAX_BLOCK})
     )
     SELECT ${RECORD_COLUMNS.split(',').map((c) => 'r.' + c.trim()).join(', ')}, r.updated_at, r.person_id AS direct_person,
       CASE WHEN EXISTS (SELECT 1 FROM empi_person m WHERE m.person_id = r.person_id AND m.merged_into IS NOT NULL)
         THEN empi_resolve(r.person_id) ELSE r.person_id END AS resolved
     FROM (SELECT DISTINCT patient_key FROM usable) u
     JOIN empi_record r ON r.patient_key = u.patient_key
     WHERE r.status = 'active' AND r.person_id IS NOT NULL AND r.patient_key <> ${pkParam}`;
}

/** Scores candidate rows against `f` and keeps the best record per person, best person first. */
export function rankCandidates(
  rows: CandidateRow[],
  f: RecordFeatures,
  params: ModelParams,
  thresholds: Thresholds,
  nameTf: number | undefined,
): PersonCandidate[] {
  return rankRecords(rows.map((row) => ({ rec: rowToFeatures(row), direct: row.direct_person as string, resolved: row.resolved as string })), f, params, thresholds, nameTf);
}

/** A candidate record already in RecordFeatures shape, with its direct and resolved person. */
export interface CandidateRecord {
  rec: RecordFeatures;
  direct: string;
  resolved: string;
}

/**
 * `rankCandidates` on records already parsed (the batch form of incremental matching keeps them in memory). Ties are
 * broken by patient_key, so the outcome does not depend on the order the database returned the rows in.
 */
export function rankRecords(
  records: CandidateRecord[],
  f: RecordFeatures,
  params: ModelParams,
  thresholds: Thresholds,
  nameTf: number | undefined,
): PersonCandidate[] {
  const best = new Map<string, PersonCandidate>();
  for (const { rec, direct, resolved } of records) {
    const score = scorePair(params, f, rec, () => nameTf);
    const decision = decide(f, rec, score, thresholds);
    const prev = best.get(resolved);
    const r = rank(decision, score);
    const p = prev && rank(prev.decision, prev.score);
    if (!prev || r > p! || (r === p && rec.patientKey < prev.patientKey)) {
      best.set(resolved, { personId: resolved, directPersonId: direct, patientKey: rec.patientKey, record: rec, score, decision });
    }
  }
  return [...best.values()].sort((a, b) => rank(b.decision, b.score) - rank(a.decision, a.score) || (a.patientKey < b.patientKey ? -1 : a.patientKey > b.patientKey ? 1 : 0));
}

/** Candidates for one record, best first, one per person (FHIR $match; incremental mode inlines the same SQL). */
export async function findCandidates(
  q: Queryable,
  f: RecordFeatures,
  params: ModelParams,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
): Promise<PersonCandidate[]> {
  const keys = blockKeys(f);
  if (!keys.length) return [];
  const { rows } = await q.query<CandidateRow>(candidateSql('$1', '$2'), [keys, f.patientKey]);
  // The name's frequency matters only when some candidate has the same name (TF adjusts the exact level).
  const tf = f.name && rows.some((r) => r.name === f.name) ? await nameFrequency(q, f.name) : undefined;
  return rankCandidates(rows, f, params, thresholds, tf);
}

/** Orders candidates: rule links first, then automatic links, then by weight. */
function rank(d: Decision, s: PairScore): number {
  return (d.reason?.startsWith('rule:') ? 1000 : 0) + (d.outcome === 'link' ? 500 : 0) + s.weight;
}
