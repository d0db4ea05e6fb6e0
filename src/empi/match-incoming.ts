/**
 * Incremental mode: each incoming Patient is matched as it arrives (the seam the ingestion module calls). Indexed
 * blocking lookups only — no scans — so one call costs a handful of index probes whatever the registry size.
 */
import type { Db, Queryable } from '../store/index.ts';
import { blockKeys } from './blocking.ts';
import { candidateSql, rankCandidates, type CandidateRow, type PersonCandidate } from './candidates.ts';
import { DEFAULT_THRESHOLDS, type Thresholds } from './decision.ts';
import { featuresOf, type MatchInput, type RecordFeatures } from './features.ts';
import type { FieldEvidence, ModelParams } from './model.ts';
import { goldenOf } from './golden.ts';
import { frequencyOf, loadModel, nameCountSql } from './model-store.ts';
import { featureValues, RECORD_COLUMN_LIST, refreshGolden, rowToFeatures } from './registry.ts';
import { cryptoOf, newPersonIdentity, nextPersonNumbers } from './protect.ts';
import { enqueueReview } from './review.ts';

/** Incremental mode's statements have fixed text: prepared once per connection, planned without parsing each time. */
const PREPARED = { prepare: true };

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
  const f = featuresOf(input, cryptoOf(db));
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
  const keys = blockKeys(f);
  // Round trip 1 (read only): whether the record is known, its candidates and the name's frequency together.
  const first = await findCandidatesOf(tx, f, keys);
  if (first.existed) {
    // A re-sent Patient (ADT^A08 update): new features and keys, same link.
    await updateRecord(tx, f, keys);
    if (first.personId) {
      const { rows } = await tx.query<{ pid: string }>('SELECT empi_resolve($1) AS pid', [first.personId]);
      await refreshGolden(tx, [rows[0].pid]);
      return { patientKey: f.patientKey, personId: rows[0].pid, outcome: 'updated', reviewIds: [] };
    }
  }
  let rows: CandidateRow[] = first.rows;
  let candidates = rankCandidates(rows, f, model.params, thresholds, first.tf);
  let chosen = soleLink(candidates);
  if (!chosen && keys.length) {
    // About to create a person: lock the blocking keys and look again, so that a concurrent matcher holding a record
    // of the same new person either committed (we see it now) or waits for us (it will see ours).
    rows = await lockedCandidates(tx, f, keys);
    candidates = rankCandidates(rows, f, model.params, thresholds, first.tf);
    chosen = soleLink(candidates);
  }
  const links = candidates.filter((c) => c.decision.outcome === 'link');
  const top = chosen ?? candidates[0];
  // Round trip 2: the record (inserted already linked: no update of a row that nine indexes point at), its keys and
  // name count, the person (new, or its refreshed golden record), the decision and the event — one statement.
  const record = recordInsert(f, keys, !first.existed);
  const n = record.params.length;
  const common = [top?.patientKey ?? null, top?.score.weight ?? null, top ? JSON.stringify(top.score.evidence) : null, model.modelId, options.actor ?? 'matcher'];
  const [other, weight, evidence, modelId, actor] = common.map((_, i) => `$${n + 1 + i}`);
  const at = (i: number) => `$${n + common.length + i}`;
  const reviewIds: number[] = [];
  let personId: string;
  let outcome: MatchResult['outcome'];
  if (chosen) {
    personId = chosen.personId;
    const golden = goldenFromCandidates(chosen, rows, f);
    // The golden record from the candidate rows is stored only when they were every record of the person (checked in
    // the statement, for the chosen person alone); else the general refresh reads them.
    const { rows: done } = await tx.query<{ golden: number }>(
      `WITH ${record.ctes(at(1))},
       d AS (INSERT INTO empi_decision (patient_key, other_patient_key, person_id, outcome, mode, weight, evidence, model_id)
             VALUES ($1, ${other}, ${at(2)}, ${at(3)}, 'incremental', ${weight}, ${evidence}, ${modelId})),
       e AS (INSERT INTO empi_event (kind, person_id, patient_key, actor, detail) VALUES ('link', ${at(2)}, $1, ${actor}, ${at(4)})),
       g AS (UPDATE empi_person SET golden = ${at(5)}::jsonb, resident_id = ${at(5)}::jsonb #>> '{residentId,value}', updated_at = now()
             WHERE person_id = ${at(2)} AND ${at(5)}::jsonb IS NOT NULL
               AND (SELECT count(*) FROM empi_record WHERE person_id = ${at(2)} AND status = 'active') = ${at(6)}::int
               AND NOT EXISTS (SELECT 1 FROM empi_person m WHERE m.merged_into = ${at(2)})
             RETURNING 1)
       SELECT count(*)::int AS golden FROM g`,
      [
        ...record.params, ...common, chosen.directPersonId, personId, chosen.decision.reason?.startsWith('rule:') ? 'rule-link' : 'link',
        JSON.stringify({ weight: chosen.score.weight, matched: chosen.patientKey }), golden ? JSON.stringify(golden.golden) : null, golden?.records ?? 0,
      ],
      PREPARED,
    );
    if (!done[0].golden) await refreshGolden(tx, [personId]);
    outcome = 'linked';
  } else {
    const grey = candidates.filter((c) => c.decision.outcome !== 'no-link').slice(0, 3);
    outcome = grey.length ? 'review' : 'new';
    const golden = goldenOf([{ ...f, updatedAt: Date.now() }]);
    // The person's number first: its health card number (with the ID's region) is encrypted here, not in SQL.
    const [n] = await nextPersonNumbers(tx, 1);
    const who = newPersonIdentity(cryptoOf(tx), n, f.region ?? '000000');
    // The record's person comes from a sibling CTE; the foreign key is checked at the end of the statement.
    const { rows: created } = await tx.query<{ person_id: string }>(
      `WITH p AS (
         INSERT INTO empi_person (person_id, health_card, health_card_bi, resident_id, golden)
         VALUES (${at(6)}, ${at(7)}, ${at(2)}, ${at(1)}, ${at(3)}::jsonb)
         RETURNING person_id
       ), ${record.ctes('(SELECT person_id FROM p)')},
       d AS (INSERT INTO empi_decision (patient_key, other_patient_key, person_id, outcome, mode, weight, evidence, model_id)
             SELECT $1, ${other}, person_id, ${at(4)}, 'incremental', ${weight}, ${evidence}, ${modelId} FROM p),
       e AS (INSERT INTO empi_event (kind, person_id, patient_key, actor, detail) SELECT 'new-person', person_id, $1, ${actor}, ${at(5)} FROM p)
       SELECT person_id FROM p`,
      [
        ...record.params, ...common, f.residentIdValid ? f.residentId : null, who.cardBi, JSON.stringify(golden), outcome,
        JSON.stringify({ weight: top?.score.weight ?? null, matched: null }), who.personId, who.card,
      ],
      PREPARED,
    );
    personId = created[0].person_id;
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

/** One person clearly matches: link. Two or more: they may be duplicates of each other — a human decides. */
function soleLink(candidates: PersonCandidate[]): PersonCandidate | undefined {
  const links = candidates.filter((c) => c.decision.outcome === 'link');
  return links.length === 1 ? links[0] : undefined;
}

/** Whether the record is known (and its person), its candidates and the name's frequency: one read-only statement. */
async function findCandidatesOf(tx: Queryable, f: RecordFeatures, keys: string[]) {
  const count = nameCountSql('$3');
  const { rows } = await tx.query<CandidateRow & { existed: boolean; rec_person: string | null; tf_n: number | null; tf_total: number | null }>(
    `WITH cand AS (${candidateSql('$1', '$2')})
     SELECT x.existed, x.rec_person, ${count.n} AS tf_n, ${count.total} AS tf_total, cand.*
     FROM (SELECT count(*) > 0 AS existed, max(person_id) AS rec_person FROM empi_record WHERE patient_key = $2) x LEFT JOIN cand ON true`,
    [keys, f.patientKey, f.name],
    PREPARED,
  );
  const head = rows[0];
  const candidates = head.patient_key === null ? [] : rows;
  // A new record's own name is counted when it is written: count it here already, as the batch count does.
  const tf = f.name && candidates.some((r) => r.name === f.name) ? frequencyOf((head.tf_n ?? 0) + (head.existed ? 0 : 1), head.tf_total) : undefined;
  return { existed: head.existed, personId: head.rec_person, rows: candidates, tf };
}

/**
 * CTEs writing the record with its person (`personExpr`) — inserted, or for a known patient_key (staged, no person
 * yet; or the same Patient matched at the same moment elsewhere) updated — and, when it was really inserted here, its
 * blocking keys and its name count. Parameters $1… are `params`.
 */
function recordInsert(f: RecordFeatures, keys: string[], isNew: boolean) {
  const cols = RECORD_COLUMN_LIST;
  const params = [...featureValues(f), keys, f.name, isNew];
  const n = cols.length;
  return {
    params,
    ctes: (personExpr: string) => `rec AS (
       INSERT INTO empi_record (${cols.join(', ')}, person_id) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}, ${personExpr})
       ON CONFLICT (patient_key) DO UPDATE SET person_id = EXCLUDED.person_id, updated_at = now()
       RETURNING $${n + 3}::boolean AND xmax = 0 AS fresh
     ), blk AS (
       INSERT INTO empi_block (key, patient_key) SELECT unnest($${n + 1}::text[]), $1 WHERE (SELECT fresh FROM rec)
     ), tfw AS (
       -- Only the name's own row: bumping a shared total here would serialise concurrent ingestion transactions.
       INSERT INTO empi_name_tf (name, n) SELECT $${n + 2}, 1 WHERE $${n + 2}::text IS NOT NULL AND (SELECT fresh FROM rec)
       ON CONFLICT (name) DO UPDATE SET n = empi_name_tf.n + 1
     )`,
  };
}

/** A known record's new features and blocking keys (its link is kept). */
async function updateRecord(tx: Queryable, f: RecordFeatures, keys: string[]): Promise<void> {
  const sets = RECORD_COLUMN_LIST.map((c, i) => (c === 'patient_key' ? '' : `${c} = $${i + 1}`)).filter(Boolean).join(', ');
  await tx.query(`UPDATE empi_record SET ${sets}, updated_at = now() WHERE patient_key = $1`, featureValues(f));
  await tx.query('DELETE FROM empi_block WHERE patient_key = $1', [f.patientKey]);
  if (keys.length) await tx.query('INSERT INTO empi_block (key, patient_key) SELECT unnest($1::text[]), $2', [keys, f.patientKey]);
}

/** The candidates read again under the advisory locks of the record's blocking keys (migration 0450). */
async function lockedCandidates(tx: Queryable, f: RecordFeatures, keys: string[]): Promise<CandidateRow[]> {
  const { rows } = await tx.query<{ row: CandidateRow }>('SELECT empi_locked_candidates($1, $2, $3) AS row', [keys, candidateSql('$1', '$2'), f.patientKey], PREPARED);
  return rows.map(({ row }) => ({ ...row, updated_at: new Date(row.updated_at as string) }));
}

/**
 * The linked person's golden record from its candidate rows and the new record, with the number of its records those
 * rows hold (the write statement stores it only when that is all of them); undefined for a merged person.
 */
function goldenFromCandidates(chosen: PersonCandidate, rows: CandidateRow[], f: RecordFeatures) {
  if (chosen.personId !== chosen.directPersonId) return undefined;
  const mine = rows.filter((r) => r.direct_person === chosen.personId);
  const golden = goldenOf([...mine.map((r) => ({ ...rowToFeatures(r), updatedAt: (r.updated_at as Date).getTime() })), { ...f, updatedAt: Date.now() }]);
  return { golden, records: mine.length };
}
