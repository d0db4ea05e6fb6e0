/**
 * The batch form of incremental matching: a worker batch's (or a FHIR Bundle's) incoming Patients matched with the
 * decisions `matchFeatures` would give each of them in turn — in a handful of statements for the whole batch instead
 * of several per Patient.
 *
 * 1. **Lock**: every blocking key of the batch, in the EMPI's global (hash) order — the locks the per-Patient path
 *    takes before it creates a person (migration 0450).
 * 2. **Read**, one statement after the locks are granted (under READ COMMITTED it sees every concurrent matcher that
 *    committed before): per batch key its block entries (201 at most), the candidate records of the keys that are
 *    selective, the batch's patient_keys already known (person, status, blocking keys), the names' counts and total.
 * 3. **Decide** in JS, Patient by Patient in the caller's order, on an in-memory view of the registry that earlier
 *    Patients of the batch change as their writes would: a new record joins its keys' blocks (and may push a key over
 *    the 200-record limit), a re-sent Patient (ADT^A08) moves between blocks with its new features, a name's count
 *    grows. So a Patient sees the records the batch's earlier Patients created — the same person registered at two
 *    institutions in one batch, an update of a Patient created earlier in it.
 * 4. **Write**, one statement (after drawing the new persons' numbers from the person sequence, in the batch's order,
 *    as one by one, and encrypting their health card numbers): new persons, records inserted already linked, A08 updates, blocking keys added and removed, name counts, decisions,
 *    events, review items, and the golden records of the linked persons computed in JS — stored where the statement
 *    finds they were computed from every record of the person; the others are refreshed after it (rare).
 *
 * The per-Patient path's second look "under the locks" before it creates a person is not needed: the batch's keys are
 * all locked before its one read, so a concurrent matcher that would create the same new person waits for this
 * transaction (and then sees its records), and one that committed before is seen by the read.
 *
 * A Patient the view cannot decide exactly — a known patient_key without a person (a staged record), or a key above
 * the block limit that the batch's own updates might bring back under it — is matched by `matchFeatures` after the
 * Patients before it are written, and the rest of the batch is read again.
 */
import type { Queryable } from '../store/index.ts';
import { blockKeys, MAX_BLOCK } from './blocking.ts';
import { rankRecords, type CandidateRecord, type PersonCandidate } from './candidates.ts';
import { RECORD_COLUMNS } from './comparisons.ts';
import { DEFAULT_THRESHOLDS } from './decision.ts';
import type { RecordFeatures } from './features.ts';
import { goldenOf, refreshGoldenOf } from './golden.ts';
import { lockKeys } from './lock-keys.ts';
import { matchFeatures, type MatchOptions, type MatchResult } from './match-incoming.ts';
import type { ModelParams } from './model.ts';
import { frequencyOf, nameCountSql } from './model-store.ts';
import { cryptoOf, newPersonIdentity, nextPersonNumbers } from './protect.ts';
import { featureValues, RECORD_COLUMN_LIST, rowToFeatures } from './registry.ts';

const PREPARED = { prepare: true };

type Model = { modelId: number | null; params: ModelParams };

export interface BatchMatchOptions extends MatchOptions {
  /** Per record, the actor its event names (default `actor`): the landed unit each Patient came from. */
  actors?: string[];
}

/**
 * Matches the incoming records in order, as `matchFeatures` on each in turn would (same persons, links, decisions,
 * events and review items), inside the caller's transaction. Returns one result per input, in order.
 */
export async function matchBatch(tx: Queryable, records: RecordFeatures[], model: Model, options: BatchMatchOptions = {}): Promise<MatchResult[]> {
  const one = (i: number) => matchFeatures(tx, records[i], model, { ...options, actor: options.actors?.[i] ?? options.actor });
  if (records.length === 1) return [await one(0)];
  const results: MatchResult[] = [];
  if (!records.length) return results;
  const keys = records.map((f) => blockKeys(f));
  await lockKeys(tx, keys.flat());
  let start = 0;
  while (start < records.length) {
    const view = await readView(tx, records.slice(start), keys.slice(start));
    const plan = new BatchPlan(view, model, options);
    let i = start;
    while (i < records.length && plan.decide(records[i], keys[i], options.actors?.[i] ?? options.actor ?? 'matcher')) i++;
    results.push(...(await plan.write(tx)));
    if (i < records.length) results.push(await one(i++)); // undecidable in the view
    start = i;
  }
  return results;
}

/** A record as the batch sees it: current features, person, and when it was last written (golden record tie-break). */
interface Rec {
  f: RecordFeatures;
  direct: string;
  resolved: string;
  updatedAt: number;
  active: boolean;
  /** Stored before the batch (counts toward its person's records in the golden check). */
  stored: boolean;
}

/** A patient_key known to the registry (before or during the batch). */
interface Known {
  person: string | null;
  resolved: string | null;
  status: string;
  /** Its blocking keys in the database before the batch, and now. */
  storedKeys: Set<string>;
  keys: Set<string>;
}

interface View {
  /** Batch key → its block entries in the database (at most MAX_BLOCK + 1). */
  hits: Map<string, string[]>;
  /** Candidate records (active, with a person) of the selective keys. */
  recs: Map<string, Rec>;
  known: Map<string, Known>;
  names: Map<string, number>;
  total: number | null;
  now: number;
}

type Row = Record<string, unknown>;

const COLS = RECORD_COLUMNS.split(',').map((c) => c.trim());
const RESOLVE = (col: string) =>
  `CASE WHEN EXISTS (SELECT 1 FROM empi_person m WHERE m.person_id = ${col} AND m.merged_into IS NOT NULL) THEN empi_resolve(${col}) ELSE ${col} END`;
const COUNT = nameCountSql('x');

/**
 * The read: one row per candidate record (kind 'r'), and one row (kind 'x') with the block entries per key, the known
 * patient_keys of the batch, the names' counts, the total and the transaction's now().
 */
const READ_SQL = `WITH hits AS MATERIALIZED (
    SELECT k.key, array_agg(b.patient_key) AS members FROM unnest($1::text[]) AS k(key)
    CROSS JOIN LATERAL (SELECT patient_key FROM empi_block WHERE key = k.key LIMIT ${MAX_BLOCK + 1}) b
    GROUP BY k.key
  ), cand AS (
    SELECT DISTINCT m.pk FROM hits CROSS JOIN LATERAL unnest(hits.members) AS m(pk) WHERE cardinality(hits.members) <= ${MAX_BLOCK}
  )
  SELECT 'r' AS kind, ${COLS.map((c) => 'r.' + c).join(', ')}, r.updated_at, r.person_id AS direct_person, ${RESOLVE('r.person_id')} AS resolved,
    NULL::json AS info
  FROM cand JOIN empi_record r ON r.patient_key = cand.pk WHERE r.status = 'active' AND r.person_id IS NOT NULL
  UNION ALL
  SELECT 'x', ${COLS.map(() => 'NULL').join(', ')}, now(), NULL, NULL, json_build_object(
    'hits', (SELECT json_object_agg(key, members) FROM hits),
    'known', (SELECT json_agg(json_build_object('pk', r.patient_key, 'person', r.person_id, 'resolved', ${RESOLVE('r.person_id')}, 'status', r.status,
                'keys', ARRAY(SELECT b.key FROM empi_block b WHERE b.patient_key = r.patient_key)))
              FROM empi_record r WHERE r.patient_key = ANY($2::text[])),
    'names', (SELECT json_object_agg(name, n) FROM empi_name_tf WHERE name = ANY($3::text[])),
    'total', ${COUNT.total})`;

async function readView(tx: Queryable, records: RecordFeatures[], keys: string[][]): Promise<View> {
  const names = [...new Set(records.map((f) => f.name).filter((n): n is string => n !== null))];
  const { rows } = await tx.query<Row>(READ_SQL, [[...new Set(keys.flat())], [...new Set(records.map((f) => f.patientKey))], names], PREPARED);
  const view: View = { hits: new Map(), recs: new Map(), known: new Map(), names: new Map(), total: null, now: 0 };
  for (const row of rows) {
    if (row.kind === 'r') {
      const f = rowToFeatures(row);
      view.recs.set(f.patientKey, {
        f, direct: row.direct_person as string, resolved: row.resolved as string, updatedAt: (row.updated_at as Date).getTime(), active: true, stored: true,
      });
      continue;
    }
    view.now = (row.updated_at as Date).getTime();
    const info = row.info as {
      hits: Record<string, string[]> | null;
      known: Array<{ pk: string; person: string | null; resolved: string | null; status: string; keys: string[] }> | null;
      names: Record<string, number> | null;
      total: number | null;
    };
    for (const [k, m] of Object.entries(info.hits ?? {})) view.hits.set(k, m);
    for (const k of info.known ?? []) view.known.set(k.pk, { person: k.person, resolved: k.resolved, status: k.status, storedKeys: new Set(k.keys), keys: new Set(k.keys) });
    for (const [n, c] of Object.entries(info.names ?? {})) view.names.set(n, Number(c));
    view.total = info.total === null ? null : Number(info.total);
  }
  return view;
}

/** A person of the batch not yet created: `new:<n>` (1-based, in creation order) until the write gives it its id. */
const NEW = 'new:';

/** What the batch decided so far, and the in-memory changes its writes will make. */
class BatchPlan {
  readonly #view: View;
  readonly #model: Model;
  readonly #options: MatchOptions;
  /** Per key, the records the batch put into its block (not there before) and took out of it. */
  readonly #added = new Map<string, Set<string>>();
  readonly #removed = new Map<string, Set<string>>();
  /** Name → records of the batch inserted with it (their name counts). */
  readonly #bumps = new Map<string, number>();
  /** New records (final features, person, the name they were counted under), in insertion order. */
  readonly #inserts = new Map<string, { person: string; countedName: string | null }>();
  /** Stored records the batch updated (ADT^A08). */
  readonly #updates = new Set<string>();
  readonly #newPersons: Array<{ region: string; residentId: string | null }> = [];
  readonly #outcomes: Array<{ pk: string; other: string | null; person: string; outcome: string; weight: number | null; evidence: string | null; kind: string; detail: string; actor: string }> = [];
  readonly #reviews: Array<{ a: string; b: string; weight: number; evidence: string; reason: string; result: number }> = [];
  readonly #queued = new Set<string>();
  /** Resolved persons whose golden record changes. */
  readonly #touched = new Set<string>();
  readonly #results: MatchResult[] = [];

  constructor(view: View, model: Model, options: MatchOptions) {
    this.#view = view;
    this.#model = model;
    this.#options = options;
  }

  /** Decides one record in the view; false when the view cannot tell exactly what `matchFeatures` would. */
  decide(f: RecordFeatures, keys: string[], actor: string): boolean {
    const view = this.#view;
    const known = view.known.get(f.patientKey);
    if (known) {
      if (known.person === null) return false; // a staged record without a person: matched the per-Patient way
      // A re-sent Patient (ADT^A08): new features and keys, same link.
      this.#moveKeys(f.patientKey, known, new Set(keys));
      const prev = view.recs.get(f.patientKey);
      view.recs.set(f.patientKey, {
        f, direct: known.person, resolved: known.resolved!, updatedAt: view.now, active: prev ? prev.active : known.status === 'active', stored: prev ? prev.stored : !this.#inserts.has(f.patientKey),
      });
      if (!this.#inserts.has(f.patientKey)) this.#updates.add(f.patientKey);
      this.#touched.add(known.resolved!);
      this.#results.push({ patientKey: f.patientKey, personId: known.resolved!, outcome: 'updated', reviewIds: [] });
      return true;
    }
    const candidates: CandidateRecord[] = [];
    const seen = new Set<string>();
    for (const k of keys) {
      const members = this.#members(k);
      if (members === undefined) return false;
      for (const pk of members) {
        if (pk === f.patientKey || seen.has(pk)) continue;
        seen.add(pk);
        const r = view.recs.get(pk);
        if (r?.active) candidates.push({ rec: r.f, direct: r.direct, resolved: r.resolved });
      }
    }
    // The name's frequency (this record counted already, as the per-Patient path does) when a candidate shares it.
    const tf = f.name && candidates.some((c) => c.rec.name === f.name)
      ? frequencyOf((view.names.get(f.name) ?? 0) + (this.#bumps.get(f.name) ?? 0) + 1, view.total)
      : undefined;
    const thresholds = this.#options.thresholds ?? DEFAULT_THRESHOLDS;
    const ranked = rankRecords(candidates, f, this.#model.params, thresholds, tf);
    const links = ranked.filter((c) => c.decision.outcome === 'link');
    const chosen: PersonCandidate | undefined = links.length === 1 ? links[0] : undefined;
    const top = chosen ?? ranked[0];
    const result: MatchResult = {
      patientKey: f.patientKey, personId: '', outcome: 'new', weight: top?.score.weight, probability: top?.score.probability,
      matchedPatientKey: top?.patientKey, reason: top?.decision.reason, evidence: top?.score.evidence, reviewIds: [],
    };
    let direct: string;
    if (chosen) {
      direct = chosen.directPersonId;
      result.personId = chosen.personId;
      result.outcome = 'linked';
      this.#outcomes.push({
        pk: f.patientKey, other: chosen.patientKey, person: chosen.personId, outcome: chosen.decision.reason?.startsWith('rule:') ? 'rule-link' : 'link',
        weight: chosen.score.weight, evidence: JSON.stringify(chosen.score.evidence), kind: 'link',
        detail: JSON.stringify({ weight: chosen.score.weight, matched: chosen.patientKey }), actor,
      });
    } else {
      const grey = ranked.filter((c) => c.decision.outcome !== 'no-link').slice(0, 3);
      this.#newPersons.push({ region: f.region ?? '000000', residentId: f.residentIdValid ? f.residentId : null });
      direct = `${NEW}${this.#newPersons.length}`;
      result.personId = direct;
      result.outcome = grey.length ? 'review' : 'new';
      this.#outcomes.push({
        pk: f.patientKey, other: top?.patientKey ?? null, person: direct, outcome: result.outcome, weight: top?.score.weight ?? null,
        evidence: top ? JSON.stringify(top.score.evidence) : null, kind: 'new-person', detail: JSON.stringify({ weight: top?.score.weight ?? null, matched: null }), actor,
      });
      for (const c of grey) {
        const [a, b] = f.patientKey < c.patientKey ? [f.patientKey, c.patientKey] : [c.patientKey, f.patientKey];
        if (this.#queued.has(`${a}\u0001${b}`)) continue; // queued once (its second insert would find it there)
        this.#queued.add(`${a}\u0001${b}`);
        const reason = c.decision.reason ?? (links.length > 1 ? 'several persons match' : 'grey zone');
        this.#reviews.push({ a, b, weight: c.score.weight, evidence: JSON.stringify(c.score.evidence), reason, result: this.#results.length });
      }
    }
    // The record, as its insert will leave the registry: linked, in its keys' blocks, its name counted.
    const known2: Known = { person: direct, resolved: result.personId, status: 'active', storedKeys: new Set(), keys: new Set() };
    view.known.set(f.patientKey, known2);
    this.#moveKeys(f.patientKey, known2, new Set(keys));
    view.recs.set(f.patientKey, { f, direct, resolved: result.personId, updatedAt: view.now, active: true, stored: false });
    this.#inserts.set(f.patientKey, { person: direct, countedName: f.name });
    if (f.name) this.#bumps.set(f.name, (this.#bumps.get(f.name) ?? 0) + 1);
    this.#touched.add(result.personId);
    this.#results.push(result);
    return true;
  }

  /** The records in a key's block now, if the key is selective (none if not); undefined when the view cannot tell. */
  #members(key: string): string[] | undefined {
    const stored = this.#view.hits.get(key) ?? [];
    const added = this.#added.get(key);
    const removed = this.#removed.get(key);
    const count = stored.length + (added?.size ?? 0) - (removed?.size ?? 0);
    if (stored.length > MAX_BLOCK) {
      // Only the first MAX_BLOCK + 1 entries were read: the key has at least `count` records.
      return count > MAX_BLOCK ? [] : undefined;
    }
    if (count > MAX_BLOCK) return [];
    const members = removed?.size ? stored.filter((pk) => !removed.has(pk)) : [...stored];
    if (added) members.push(...added);
    return members;
  }

  /** A record's blocking keys become `keys`: the blocks it enters and leaves, relative to the stored ones. */
  #moveKeys(pk: string, known: Known, keys: Set<string>): void {
    for (const k of new Set([...known.keys, ...keys])) {
      const inStore = known.storedKeys.has(k);
      const now = keys.has(k);
      setMember(this.#added, k, pk, now && !inStore);
      setMember(this.#removed, k, pk, inStore && !now);
    }
    known.keys = keys;
  }

  /** Writes what was decided, in one statement (plus a golden refresh for persons it could not compute whole). */
  async write(tx: Queryable): Promise<MatchResult[]> {
    if (!this.#results.length) return [];
    const view = this.#view;
    // Golden records: a new person's from its records (all in the batch); a stored person's from the records the
    // view holds, stored only when the statement finds they were all of them.
    const byPerson = new Map<string, Rec[]>();
    for (const r of view.recs.values()) {
      if (!r.active || !this.#touched.has(r.resolved) || r.direct !== r.resolved) continue;
      const list = byPerson.get(r.direct) ?? [];
      list.push(r);
      byPerson.set(r.direct, list);
    }
    const golden = (p: string) => JSON.stringify(goldenOf((byPerson.get(p) ?? []).map((r) => ({ ...r.f, updatedAt: r.updatedAt }))));
    // A stored person none of whose active records the view holds is refreshed after the statement (as the
    // per-Patient path refreshes it; a person left without active records keeps its golden record).
    const stored = [...this.#touched].filter((p) => !p.startsWith(NEW) && byPerson.has(p)).sort();
    const unknown = [...this.#touched].filter((p) => !p.startsWith(NEW) && !byPerson.has(p)).sort();
    const recordJson = (pk: string, extra: Record<string, unknown>) => {
      const values = featureValues(view.recs.get(pk)!.f);
      return { ...Object.fromEntries(RECORD_COLUMN_LIST.map((c, i) => [c, values[i]])), ...extra };
    };
    const personRef = (p: string) => (p.startsWith(NEW) ? { person: null, np: Number(p.slice(NEW.length)) } : { person: p, np: 0 });
    const inserts = [...this.#inserts].map(([pk, x]) => ({ pk, ...x }));
    const freshKeys = inserts.flatMap((x) => [...view.known.get(x.pk)!.keys].map((k) => [k, x.pk]));
    const updates = [...this.#updates].sort();
    const addKeys: string[][] = [];
    const delKeys: string[][] = [];
    for (const pk of updates) {
      const k = view.known.get(pk)!;
      for (const key of k.keys) if (!k.storedKeys.has(key)) addKeys.push([key, pk]);
      for (const key of k.storedKeys) if (!k.keys.has(key)) delKeys.push([key, pk]);
    }
    const named = inserts.filter((x) => x.countedName !== null);
    const o = this.#outcomes;
    const rv = this.#reviews;
    // New persons' numbers from the sequence, in the batch's order; their health card numbers encrypted here.
    const crypto = cryptoOf(tx);
    const who = (await nextPersonNumbers(tx, this.#newPersons.length)).map((n, i) => newPersonIdentity(crypto, n, this.#newPersons[i].region));
    const params: unknown[] = [
      /* $1-$3 new persons */ who.map((p) => p.personId), this.#newPersons.map((p) => p.residentId), this.#newPersons.map((_, i) => golden(`${NEW}${i + 1}`)),
      /* $4 records */ JSON.stringify(inserts.map((x) => recordJson(x.pk, { person_id: personRef(x.person).person, np: personRef(x.person).np }))),
      /* $5 updates */ JSON.stringify(updates.map((pk) => recordJson(pk, {}))),
      /* $6-$7 keys of new records */ freshKeys.map((x) => x[0]), freshKeys.map((x) => x[1]),
      /* $8-$11 keys added and removed by updates */ addKeys.map((x) => x[0]), addKeys.map((x) => x[1]), delKeys.map((x) => x[0]), delKeys.map((x) => x[1]),
      /* $12-$13 name counts */ named.map((x) => x.countedName), named.map((x) => x.pk),
      /* $14-$22 decisions and events */ o.map((x) => x.pk), o.map((x) => x.other), o.map((x) => personRef(x.person).person), o.map((x) => personRef(x.person).np),
      o.map((x) => x.outcome), o.map((x) => x.weight), o.map((x) => x.evidence), o.map((x) => x.kind), o.map((x) => x.detail),
      /* $23-$24 */ this.#model.modelId, o.map((x) => x.actor),
      /* $25-$29 review items */ rv.map((x) => x.a), rv.map((x) => x.b), rv.map((x) => x.weight), rv.map((x) => x.evidence), rv.map((x) => x.reason),
      /* $30-$32 golden records of stored persons */ stored, stored.map(golden), stored.map((p) => (byPerson.get(p) ?? []).filter((r) => r.stored).length),
      /* $33-$34 new persons' health cards */ who.map((p) => p.card), who.map((p) => p.cardBi),
    ];
    const { rows } = await tx.query<{ persons: string[]; reviews: Array<{ id: number; a: string; b: string }>; golden: string[] }>(WRITE_SQL, params, PREPARED);
    const { persons, reviews, golden: stored2 } = rows[0];
    const real = (p: string) => (p.startsWith(NEW) ? persons[Number(p.slice(NEW.length)) - 1] : p);
    const ids = new Map(reviews.map((r) => [`${r.a}\u0001${r.b}`, Number(r.id)]));
    for (const r of rv) {
      const id = ids.get(`${r.a}\u0001${r.b}`);
      if (id !== undefined) this.#results[r.result].reviewIds.push(id);
    }
    const done = new Set(stored2);
    const refresh = [...stored.filter((p) => !done.has(p)), ...unknown];
    if (refresh.length) await refreshGoldenOf(tx, refresh);
    return this.#results.map((r) => ({ ...r, personId: real(r.personId) }));
  }
}

function setMember(m: Map<string, Set<string>>, key: string, pk: string, on: boolean): void {
  let s = m.get(key);
  if (on) {
    if (!s) m.set(key, (s = new Set()));
    s.add(pk);
  } else s?.delete(pk);
}

const UPDATE_SET = RECORD_COLUMN_LIST.filter((c) => c !== 'patient_key').map((c) => `${c} = u.${c}`).join(', ');

/**
 * The batch's writes in one statement. New persons take their numbers from the sequence in the batch's order; a
 * record, decision or event of a new person refers to it by its position (`np`). The records' foreign key to their
 * person is checked at the end of the statement, when the sibling insert of the persons is there.
 */
const WRITE_SQL = `WITH np AS MATERIALIZED (
    SELECT ord, person_id, rid, golden, card, card_bi
    FROM unnest($1::text[], $2::text[], $3::text[], $33::text[], $34::text[]) WITH ORDINALITY AS x(person_id, rid, golden, card, card_bi, ord)
  ), pid AS (SELECT ord, person_id FROM np),
  p AS (
    INSERT INTO empi_person (person_id, health_card, health_card_bi, resident_id, golden)
    SELECT person_id, card, card_bi, rid, golden::jsonb FROM np ORDER BY ord
  ), rec AS (
    INSERT INTO empi_record (${RECORD_COLUMN_LIST.join(', ')}, person_id)
    SELECT ${RECORD_COLUMN_LIST.map((c) => 'r.' + c).join(', ')}, coalesce(r.person_id, pid.person_id)
    FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS e(j, ord)
    CROSS JOIN LATERAL jsonb_populate_record(NULL::empi_record, e.j) AS r
    LEFT JOIN pid ON pid.ord = (e.j->>'np')::bigint
    ORDER BY e.ord
    ON CONFLICT (patient_key) DO UPDATE SET person_id = EXCLUDED.person_id, updated_at = now()
    RETURNING patient_key, xmax = 0 AS fresh
  ), upd AS (
    UPDATE empi_record t SET ${UPDATE_SET}, updated_at = now()
    FROM jsonb_populate_recordset(NULL::empi_record, $5::jsonb) AS u WHERE t.patient_key = u.patient_key
  ), blk AS (
    INSERT INTO empi_block (key, patient_key)
    SELECT b.key, b.pk FROM unnest($6::text[], $7::text[]) AS b(key, pk) JOIN rec ON rec.patient_key = b.pk WHERE rec.fresh
    UNION ALL SELECT * FROM unnest($8::text[], $9::text[])
  ), bdel AS (
    DELETE FROM empi_block b USING unnest($10::text[], $11::text[]) AS d(key, pk) WHERE b.key = d.key AND b.patient_key = d.pk
  ), tfw AS (
    -- Only the names' own rows, in name order (concurrent batches take them in one order).
    INSERT INTO empi_name_tf (name, n)
    SELECT t.name, count(*) FROM unnest($12::text[], $13::text[]) AS t(name, pk) JOIN rec ON rec.patient_key = t.pk WHERE rec.fresh
    GROUP BY t.name ORDER BY t.name
    ON CONFLICT (name) DO UPDATE SET n = empi_name_tf.n + EXCLUDED.n
  ), o AS MATERIALIZED (
    SELECT x.*, coalesce(x.person, pid.person_id) AS person_id
    FROM unnest($14::text[], $15::text[], $16::text[], $17::bigint[], $18::text[], $19::float8[], $20::text[], $21::text[], $22::text[], $24::text[])
      WITH ORDINALITY AS x(pk, other, person, np, outcome, weight, evidence, kind, detail, actor, ord)
    LEFT JOIN pid ON pid.ord = x.np
  ), d AS (
    INSERT INTO empi_decision (patient_key, other_patient_key, person_id, outcome, mode, weight, evidence, model_id)
    SELECT pk, other, person_id, outcome, 'incremental', weight, evidence::jsonb, $23::bigint FROM o ORDER BY ord
  ), e AS (
    INSERT INTO empi_event (kind, person_id, patient_key, actor, detail) SELECT kind, person_id, pk, actor, detail::jsonb FROM o ORDER BY ord
  ), rv AS (
    INSERT INTO empi_review (patient_key_a, patient_key_b, weight, evidence, reason)
    SELECT a, b, w, ev::jsonb, reason FROM unnest($25::text[], $26::text[], $27::float8[], $28::text[], $29::text[]) WITH ORDINALITY AS x(a, b, w, ev, reason, ord)
    ORDER BY ord
    ON CONFLICT (patient_key_a, patient_key_b) DO NOTHING
    RETURNING review_id, patient_key_a, patient_key_b
  ), g AS (
    UPDATE empi_person p SET golden = x.golden::jsonb, resident_id = x.golden::jsonb #>> '{residentId,value}', updated_at = now()
    FROM unnest($30::text[], $31::text[], $32::int[]) AS x(pid, golden, n)
    WHERE p.person_id = x.pid
      AND (SELECT count(*) FROM empi_record r WHERE r.person_id = x.pid AND r.status = 'active') = x.n
      AND NOT EXISTS (SELECT 1 FROM empi_person m WHERE m.merged_into = x.pid)
    RETURNING p.person_id
  )
  SELECT (SELECT coalesce(json_agg(person_id ORDER BY ord), '[]') FROM pid) AS persons,
    (SELECT coalesce(json_agg(json_build_object('id', review_id, 'a', patient_key_a, 'b', patient_key_b)), '[]') FROM rv) AS reviews,
    (SELECT coalesce(json_agg(person_id), '[]') FROM g) AS golden`;
