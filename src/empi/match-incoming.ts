/**
 * Incremental mode: each incoming Patient is matched as it arrives (the seam the ingestion module calls). Indexed
 * blocking lookups only — no scans — so one call costs a handful of index probes whatever the registry size.
 */
import type { Db, Queryable } from '../store/index.ts';
import { findCandidates, type PersonCandidate } from './candidates.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from './decision.ts';
import { featuresOf, type MatchInput, type RecordFeatures } from './features.ts';
import type { FieldEvidence, ModelParams } from './model.ts';
import { goldenOf } from './golden.ts';
import { loadModel } from './model-store.ts';
import { refreshGolden, upsertRecord } from './registry.ts';
import { enqueueReview } from './review.ts';

export interface MatchOptions {
  thresholds?: Thresholds;
  /** Model to use (default: the newest trained one in the database). */
  model?: { modelId: number | null; params: ModelParams };
  actor?: string;
}

export interface MatchResult {
  patientKey: string;
  /** The person the Patient belongs to now. */
  personId: string;
  /** linked: to an existing person; new: a new person; review: a new person plus review items; updated: known record. */
  outcome: 'linked' | 'new' | 'review' | 'updated';
  weight?: number;
  probability?: number;
  /** The record it was linked or compared to. */
  matchedPatientKey?: string;
  reason?: string;
  evidence?: FieldEvidence[];
  reviewIds: number[];
}

/**
 * Matches one incoming institution-level Patient and records the outcome: links it to the person it matches, or
 * creates a new golden person (with an electronic health card number), queueing grey-zone candidates for review.
 * Re-sending a known patient_key refreshes its features and keeps its link (ADT^A08 update).
 * `input.patientKey` is the stored Patient's id; `input.institutionId` the submitting institution.
 */
export async function matchIncoming(db: Db | Queryable, input: MatchInput, options: MatchOptions = {}): Promise<MatchResult> {
  const f = featuresOf(input);
  const model = options.model ?? (await loadModel(db));
  // Called with a Db: its own transaction. Called with the ingestion's transaction: joins it, so the Patient and its
  // link commit (or roll back) together.
  return 'transaction' in db ? db.transaction((tx) => matchFeatures(tx, f, model, options)) : matchFeatures(db, f, model, options);
}

/** The same on already-normalised features, inside the caller's transaction. */
export async function matchFeatures(
  tx: Queryable,
  f: RecordFeatures,
  model: { modelId: number | null; params: ModelParams },
  options: MatchOptions = {},
): Promise<MatchResult> {
  const thresholds = options.thresholds ?? DEFAULT_THRESHOLDS;
  const { existed, personId: known } = await upsertRecord(tx, f);
  if (existed && known) {
    const { rows } = await tx.query<{ pid: string }>('SELECT empi_resolve($1) AS pid', [known]);
    await refreshGolden(tx, [rows[0].pid]);
    return { patientKey: f.patientKey, personId: rows[0].pid, outcome: 'updated', reviewIds: [] };
  }
  const candidates = await findCandidates(tx, f, model.params, thresholds);
  const links = candidates.filter((c) => c.decision.outcome === 'link');
  // One person clearly matches: link. Two or more: they may be duplicates of each other — a human decides.
  const chosen: PersonCandidate | undefined = links.length === 1 ? links[0] : undefined;
  let personId: string;
  let outcome: MatchResult['outcome'];
  const reviewIds: number[] = [];
  const top = chosen ?? candidates[0];
  const decisionOutcome = chosen ? (chosen.decision.reason?.startsWith('rule:') ? 'rule-link' : 'link') : undefined;
  // The link (or the new person), its decision and its event in one statement: incremental mode pays per round trip.
  const common = [f.patientKey, top?.patientKey ?? null, top?.score.weight ?? null, top ? JSON.stringify(top.score.evidence) : null, model.modelId, options.actor ?? 'matcher'];
  if (chosen) {
    personId = chosen.personId;
    await tx.query(
      `WITH u AS (UPDATE empi_record SET person_id = $7 WHERE patient_key = $1),
       d AS (INSERT INTO empi_decision (patient_key, other_patient_key, person_id, outcome, mode, weight, evidence, model_id)
             VALUES ($1, $2, $8, $9, 'incremental', $3, $4, $5))
       INSERT INTO empi_event (kind, person_id, patient_key, actor, detail) VALUES ('link', $8, $1, $6, $10)`,
      [...common, chosen.directPersonId, personId, decisionOutcome, JSON.stringify({ weight: top.score.weight, matched: chosen.patientKey })],
    );
    await refreshGolden(tx, [personId]);
    outcome = 'linked';
  } else {
    const grey = candidates.filter((c) => c.decision.outcome !== 'no-link').slice(0, 3);
    outcome = grey.length ? 'review' : 'new';
    const region = f.residentIdValid ? f.residentId!.slice(0, 6) : '000000';
    const golden = goldenOf([{ ...f, updatedAt: Date.now() }]);
    const { rows } = await tx.query<{ person_id: string }>(
      `WITH p AS (
         INSERT INTO empi_person (person_id, health_card, resident_id, golden)
         SELECT 'P' || lpad(n::text, 10, '0'), 'HC' || d || empi_mod11_2(d), $7, $9::jsonb
         FROM (SELECT n, $8::text || lpad(n::text, 11, '0') AS d FROM (SELECT nextval('empi_person_seq') AS n) s) x
         RETURNING person_id
       ), u AS (UPDATE empi_record SET person_id = (SELECT person_id FROM p) WHERE patient_key = $1),
       d AS (INSERT INTO empi_decision (patient_key, other_patient_key, person_id, outcome, mode, weight, evidence, model_id)
             SELECT $1, $2, person_id, $10, 'incremental', $3, $4, $5 FROM p),
       e AS (INSERT INTO empi_event (kind, person_id, patient_key, actor, detail) SELECT 'new-person', person_id, $1, $6, $11 FROM p)
       SELECT person_id FROM p`,
      [...common, f.residentIdValid ? f.residentId : null, region, JSON.stringify(golden), outcome, JSON.stringify({ weight: top?.score.weight ?? null, matched: null })],
    );
    personId = rows[0].person_id;
    for (const c of grey) {
      const id = await enqueueReview(tx, f.patientKey, c.patientKey, c.score.weight, c.score.evidence, c.decision.reason ?? (links.length > 1 ? 'several persons match' : 'grey zone'));
      if (id !== undefined) reviewIds.push(id);
    }
  }
  return {
    patientKey: f.patientKey,
    personId,
    outcome,
    weight: top?.score.weight,
    probability: top?.score.probability,
    matchedPatientKey: top?.patientKey,
    reason: top?.decision.reason,
    evidence: top?.score.evidence,
    reviewIds,
  };
}
