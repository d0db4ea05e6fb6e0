/**
 * Batch mode: dedupe a whole county's initial load in the database. Blocking, comparison vectors, EM training, match
 * weights, connected components and person assignment are each one or a few set-based SQL statements; JS only runs
 * EM on the aggregated patterns. Records already linked (incremental mode) keep their persons; new records join them
 * or form new persons.
 */
import type { Db, Queryable } from '../store/index.ts';
import { MAX_BLOCK } from './blocking.ts';
import { COMPARISONS, GAMMA_COLUMNS } from './comparisons.ts';
import { capSql, DEFAULT_THRESHOLDS, ruleSql, type Thresholds } from './decision.ts';
import { weightSql, type ModelParams } from './model.ts';
import { loadModel, recountNames } from './model-store.ts';
import { buildPairs, ensureBlockKeys, withoutIndexes } from './pairs.ts';
import { resolvedSql, refreshGolden } from './registry.ts';
import { issueHealthCards } from './protect.ts';
import { trainModel } from './train.ts';

export interface BatchResult {
  records: number;
  pairs: number;
  linkEdges: number;
  reviewItems: number;
  newPersons: number;
  modelId: number | null;
  iterations?: number;
  seconds: Record<string, number>;
}

export interface BatchOptions {
  thresholds?: Thresholds;
  /** Re-estimate m/u by EM before scoring (default true). */
  train?: boolean;
  sample?: number;
  actor?: string;
  log?: (msg: string) => void;
}

/** Dedupe every record without a person yet (all of them after a bulk `stageRecords`). */
export async function batchDedupe(db: Db, options: BatchOptions = {}): Promise<BatchResult> {
  const t = options.thresholds ?? DEFAULT_THRESHOLDS;
  const seconds: Record<string, number> = {};
  let clock = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    seconds[name] = Math.round(now - clock) / 1000;
    clock = now;
    options.log?.(`${name}: ${seconds[name]} s`);
  };
  return db.transaction(async (q) => {
    // Hash joins and aggregations over millions of pairs, and index rebuilds: in memory rather than spilled in 4 MB
    // pieces (the server's defaults). Transaction-scoped; the embedded engine keeps its defaults (its heap is small).
    if (db.engine === 'postgres') await q.exec(`SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '1GB'`);
    const records = (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM empi_record WHERE person_id IS NULL AND status = 'active'`)).rows[0].n;
    await ensureBlockKeys(q);
    // A bulk load just changed these tables by orders of magnitude: fresh statistics, or the planner picks nested
    // loops over "tiny" tables (here and, after commit, in every incremental match).
    await q.exec('ANALYZE empi_record; ANALYZE empi_block; ANALYZE empi_person;');
    lap('blocking keys');
    await recountNames(q);
    lap('name frequencies');
    let model: { modelId: number | null; params: ModelParams };
    let iterations: number | undefined;
    // The pairs are built once: EM reads them in one grouped scan (pattern × rule set), scoring reads them again.
    const pairs = await buildPairs(q, 'unassigned');
    lap('blocked pairs');
    if (options.train ?? true) {
      const tr = await trainModel(db, { q, pairsReady: true, sample: options.sample });
      model = { modelId: tr.modelId, params: tr.params };
      iterations = tr.iterations;
      lap('EM training');
    } else {
      model = await loadModel(q);
    }
    await scoreEdges(q, model.params, t);
    lap('match weights');
    const linkEdges = (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM empi_batch_edge WHERE outcome = 'link'`)).rows[0].n;
    await connectedComponents(db, q);
    lap('connected components');
    const newPersons = await assignPersons(q);
    lap('persons');
    const reviewItems = await queueReviews(q);
    await q.query(
      `WITH ends AS (
         SELECT a AS k, b AS o, weight, reason, evidence FROM empi_batch_edge WHERE outcome = 'link'
         UNION ALL SELECT b, a, weight, reason, evidence FROM empi_batch_edge WHERE outcome = 'link'
       )
       INSERT INTO empi_decision (patient_key, other_patient_key, person_id, outcome, mode, weight, evidence, model_id)
       SELECT DISTINCT ON (g.patient_key) g.patient_key, e.o, bp.person_id,
         CASE WHEN e.reason LIKE 'rule:%' THEN 'rule-link' WHEN e.k IS NULL THEN 'new' ELSE 'link' END, 'batch', e.weight, e.evidence, $1
       FROM empi_batch_group g JOIN empi_batch_person bp ON bp.grp = g.grp
       LEFT JOIN ends e ON e.k = g.patient_key
       ORDER BY g.patient_key, e.weight DESC NULLS LAST`,
      [model.modelId],
    );
    lap('decisions');
    await refreshGolden(q, { sql: 'SELECT person_id FROM empi_batch_person' });
    await q.exec('ANALYZE empi_record; ANALYZE empi_person; ANALYZE empi_name_tf; ANALYZE empi_review;');
    lap('golden records');
    await q.query(`INSERT INTO empi_event (kind, actor, detail) VALUES ('batch-dedupe', $1, $2)`, [
      options.actor ?? 'batch',
      JSON.stringify({ records, pairs, linkEdges, newPersons, reviewItems, modelId: model.modelId }),
    ]);
    return { records, pairs, linkEdges, reviewItems, newPersons, modelId: model.modelId, iterations, seconds };
  });
}

const NAME_ELSE = COMPARISONS.find((c) => c.name === 'name')!.levels.length - 1;

/**
 * Scores the blocked pairs and keeps those at or above the review threshold as edges (link or review).
 *
 * Most blocked pairs are strangers whose comparison vector alone rules out an edge, so a filter on the pair's own γ
 * columns runs first, before the two record rows are joined: the highest weight the vector can have (its name
 * agreement weighed as the rarest name could be) below the review threshold, and the deterministic rule impossible
 * (its γ conditions of `ruleSql`) — such a pair can be neither link nor review whatever the records hold.
 */
async function scoreEdges(q: Queryable, params: ModelParams, t: Thresholds): Promise<void> {
  await q.exec('TRUNCATE empi_batch_edge');
  const tot = (await q.query<{ n: number }>(`SELECT n FROM empi_name_tf WHERE name = ''`)).rows[0]?.n;
  const highest = weightSql(params, tot !== undefined && tot >= 1000 ? `${1 / tot}` : 'NULL');
  const rulePossible = `(p.g_rid = 0 AND p.g_name >= 0 AND p.g_name < ${NAME_ELSE} AND p.g_dob IN (0, 1) AND p.g_sex <> 1)`;
  const evidence = `jsonb_build_array(${COMPARISONS.map((c) => `jsonb_build_object('field', '${c.name}', 'gamma', p.g_${c.name})`).join(', ')})`;
  await q.query(
    // MATERIALIZED: the weight, rule and cap of a pair are computed once (an inlined CTE would compute them once per
    // reference below); the evidence is built only for the pairs kept.
    `WITH tot AS (SELECT n FROM empi_name_tf WHERE name = ''),
     scored AS MATERIALIZED (
       SELECT p.a, p.b, ${GAMMA_COLUMNS.map((c) => `p.${c}`).join(', ')},
         ${weightSql(params, 'CASE WHEN tot.n >= 1000 THEN greatest(t.n, 1)::float8 / tot.n END')} AS weight,
         ${ruleSql()} AS rule, ${capSql()} AS capped
       FROM empi_batch_pair p JOIN empi_record l ON l.patient_key = p.a JOIN empi_record r ON r.patient_key = p.b
       LEFT JOIN empi_name_tf t ON p.g_name = 0 AND t.name = l.name
       LEFT JOIN tot ON true
       WHERE (${highest} >= ${t.review} OR ${rulePossible})
         AND NOT EXISTS (SELECT 1 FROM empi_review v WHERE v.status = 'not-linked' AND v.patient_key_a = least(p.a, p.b) AND v.patient_key_b = greatest(p.a, p.b))
     )
     INSERT INTO empi_batch_edge (a, b, weight, outcome, reason, evidence)
     SELECT a, b, weight,
       CASE WHEN rule OR (weight >= ${t.link} AND NOT capped) THEN 'link' ELSE 'review' END,
       CASE WHEN rule THEN 'rule:resident-id+name+birth-date' WHEN capped THEN 'cap' END, ${evidence}
     FROM scored p WHERE rule OR weight >= ${t.review}`,
  );
  // A newborn placeholder that links to records with two different names may be one of twins: a human decides.
  await q.query(
    `WITH nb AS (
       SELECT e.a, e.b, CASE WHEN ra.name_kind = 'newborn' THEN e.a ELSE e.b END AS baby,
         CASE WHEN ra.name_kind = 'newborn' THEN rb.name ELSE ra.name END AS other_name
       FROM empi_batch_edge e JOIN empi_record ra ON ra.patient_key = e.a JOIN empi_record rb ON rb.patient_key = e.b
       WHERE e.outcome = 'link' AND (ra.name_kind = 'newborn') IS DISTINCT FROM (rb.name_kind = 'newborn')
     ), amb AS (SELECT baby FROM nb GROUP BY baby HAVING count(DISTINCT other_name) > 1)
     UPDATE empi_batch_edge e SET outcome = 'review', reason = 'cap:newborn-ambiguous'
     FROM nb WHERE nb.a = e.a AND nb.b = e.b AND nb.baby IN (SELECT baby FROM amb)`,
  );
}

/**
 * Connected components of the link edges. Union–find over the edge list in JS (near-linear; the iterative SQL
 * alternative — label propagation — needs one full UPDATE per round of graph diameter), labels COPYed back.
 */
async function connectedComponents(db: Db, q: Queryable): Promise<void> {
  await q.exec('TRUNCATE empi_batch_cc');
  const { rows } = await q.query<{ a: string; b: string }>(`SELECT a, b FROM empi_batch_edge WHERE outcome = 'link'`);
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    let c = x;
    while (c !== r) {
      const n = parent.get(c)!;
      parent.set(c, r);
      c = n;
    }
    return r;
  };
  for (const { a, b } of rows) {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const ra = find(a);
    const rb = find(b);
    // The smaller key becomes the root, so labels do not depend on edge order.
    if (ra !== rb) ra < rb ? parent.set(rb, ra) : parent.set(ra, rb);
  }
  const labels = (function* () {
    for (const k of parent.keys()) yield [k, find(k)];
  })();
  await copyInto(db, q, 'empi_batch_cc', ['patient_key', 'label'], labels);
}

/**
 * Bulk insert inside the batch transaction. The Db seam's copyFrom runs on its own connection (PostgreSQL pool),
 * which would not see — or be seen by — this transaction; so text columns go as arrays through unnest, 50,000 rows
 * per statement.
 */
async function copyInto(db: Db, q: Queryable, table: string, cols: string[], rows: Iterable<unknown[]>): Promise<void> {
  void db;
  let chunk: unknown[][] = [];
  const flush = async () => {
    if (!chunk.length) return;
    const arrays = cols.map((_, i) => chunk.map((r) => (r[i] === null || r[i] === undefined ? null : String(r[i]))));
    await q.query(`INSERT INTO ${table} (${cols.join(', ')}) SELECT * FROM unnest(${cols.map((_, i) => `$${i + 1}::text[]`).join(', ')})`, arrays);
    chunk = [];
  };
  for (const r of rows) {
    chunk.push(r);
    if (chunk.length >= 50_000) await flush();
  }
  await flush();
}

/** Every unassigned record joins its component's existing person, or a new person per component (or per record). */
async function assignPersons(q: Queryable): Promise<number> {
  await q.exec(`TRUNCATE empi_batch_group; TRUNCATE empi_batch_person;`);
  await q.exec(`INSERT INTO empi_batch_group (patient_key, grp)
    SELECT r.patient_key, COALESCE(c.label, r.patient_key) FROM empi_record r LEFT JOIN empi_batch_cc c ON c.patient_key = r.patient_key
    WHERE r.status = 'active' AND (r.person_id IS NULL OR c.label IS NOT NULL)`);
  await q.exec(`INSERT INTO empi_batch_person (grp, person_id, is_new)
    SELECT g.grp, min(${resolvedSql('r.person_id', 'pp')}), false FROM empi_batch_group g
    JOIN empi_record r ON r.patient_key = g.patient_key JOIN empi_person pp ON pp.person_id = r.person_id GROUP BY g.grp`);
  // New persons get their health card numbers (which carry the region of a resident ID only the keys can read) once
  // their records are linked, from issueHealthCards; their resident ID from the golden refresh at the end.
  const { rowCount } = await q.query(`WITH fresh AS (
      SELECT grp, nextval('empi_person_seq') AS n FROM (
        SELECT g.grp FROM empi_batch_group g
        WHERE NOT EXISTS (SELECT 1 FROM empi_batch_person bp WHERE bp.grp = g.grp) GROUP BY g.grp) x
    ), ins AS (
      INSERT INTO empi_person (person_id) SELECT 'P' || lpad(n::text, 10, '0') FROM fresh
      RETURNING person_id
    )
    INSERT INTO empi_batch_person (grp, person_id, is_new) SELECT grp, 'P' || lpad(n::text, 10, '0'), true FROM fresh`);
  const update = () =>
    q.exec(`UPDATE empi_record r SET person_id = bp.person_id FROM empi_batch_group g JOIN empi_batch_person bp ON bp.grp = g.grp
      WHERE r.patient_key = g.patient_key AND r.person_id IS NULL`);
  // An initial load updates most rows: rebuilding the record indexes once beats maintaining them row by row.
  const { rows } = await q.query<{ todo: number; total: number }>(
    `SELECT count(*) FILTER (WHERE person_id IS NULL)::int AS todo, count(*)::int AS total FROM empi_record`,
  );
  if (rows[0].todo * 2 > rows[0].total) await withoutIndexes(q, 'empi_record', update);
  else await update();
  await issueHealthCards(q, 'SELECT person_id FROM empi_batch_person WHERE is_new');
  return rowCount;
}

/** Review edges between records that ended up in different persons: the best pair per pair of persons. */
async function queueReviews(q: Queryable): Promise<number> {
  const { rowCount } = await q.query(
    `WITH e AS (
       SELECT e.*, ${resolvedSql('ra.person_id', 'pa')} AS pa, ${resolvedSql('rb.person_id', 'pb')} AS pb
       FROM empi_batch_edge e JOIN empi_record ra ON ra.patient_key = e.a JOIN empi_record rb ON rb.patient_key = e.b
       JOIN empi_person pa ON pa.person_id = ra.person_id JOIN empi_person pb ON pb.person_id = rb.person_id
       WHERE e.outcome = 'review'
     )
     INSERT INTO empi_review (patient_key_a, patient_key_b, weight, evidence, reason)
     SELECT DISTINCT ON (least(pa, pb), greatest(pa, pb)) least(a, b), greatest(a, b), weight, evidence, COALESCE(reason, 'grey zone')
     FROM e WHERE pa <> pb ORDER BY least(pa, pb), greatest(pa, pb), weight DESC
     ON CONFLICT (patient_key_a, patient_key_b) DO NOTHING`,
  );
  return rowCount;
}

export { MAX_BLOCK };
