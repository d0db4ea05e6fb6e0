/**
 * The identity layer's storage: golden persons, cross-references (one empi_record per institution-level Patient),
 * the best-of-sources golden record. A person's record is the set of patient_keys linked to it, resolved at query
 * time through merges; clinical rows are never touched.
 */
import type { FieldCrypto } from '../crypto/index.ts';
import type { Db, Queryable } from '../store/index.ts';
import { blockKeys, blockKeysInsertSql } from './blocking.ts';
import { RECORD_COLUMNS } from './comparisons.ts';
import type { RecordFeatures } from './features.ts';
import { recountNames } from './model-store.ts';
import { cryptoOf, healthCardNumber, issueHealthCards, newPersonIdentity, nextPersonNumbers, openGolden, openIdentifier } from './protect.ts';

/** A row of empi_record in RecordFeatures shape. */
export function rowToFeatures(r: Record<string, unknown>): RecordFeatures {
  return {
    patientKey: r.patient_key as string,
    institutionId: r.institution_id as string,
    localSystem: (r.local_system as string) ?? null,
    localValue: (r.local_value as string) ?? null,
    residentId: (r.resident_id as string) ?? null,
    residentIdValid: Boolean(r.resident_id_valid),
    name: (r.name as string) ?? null,
    nameKind: (r.name_kind as RecordFeatures['nameKind']) ?? null,
    namePinyin: (r.name_pinyin as string) ?? null,
    nameInitials: (r.name_initials as string) ?? null,
    motherName: (r.mother_name as string) ?? null,
    birthDate: (r.birth_date as string) ?? null,
    sex: (r.sex as 'M' | 'F') ?? null,
    phone: (r.phone as string) ?? null,
    village: (r.village as string) ?? null,
    township: (r.township as string) ?? null,
    passport: (r.passport as string) ?? null,
    identifiers: (r.identifiers as string[]) ?? [],
    ridBi: (r.rid_bi as string) ?? null,
    ridNear: (r.rid_near as string[]) ?? null,
    ridSwaps: (r.rid_swaps as string[]) ?? null,
    ridDob: Boolean(r.rid_dob),
    phoneBi: (r.phone_bi as string) ?? null,
    passportBi: (r.passport_bi as string) ?? null,
    passportNear: (r.passport_near as string[]) ?? null,
    identifierBis: (r.identifier_bis as string[]) ?? [],
  };
}

/** Column values of a record in RECORD_COLUMNS order (for INSERT and COPY). */
export function featureValues(f: RecordFeatures): unknown[] {
  return [
    f.patientKey, f.institutionId, f.localSystem, f.localValue, f.residentId, f.residentIdValid, f.name, f.nameKind,
    f.namePinyin, f.nameInitials, f.motherName, f.birthDate, f.sex, f.phone, f.village, f.township, f.passport,
    f.identifiers, f.ridBi, f.ridNear, f.ridSwaps, f.ridDob, f.phoneBi, f.passportBi, f.passportNear, f.identifierBis,
  ];
}

/** The RECORD_COLUMN_LIST columns that are text arrays (COPY writes them as array literals). */
export const ARRAY_COLUMNS = ['identifiers', 'rid_near', 'rid_swaps', 'passport_near', 'identifier_bis'];

/** Column values for COPY's text format: arrays as literals. */
export function copyValues(f: RecordFeatures): unknown[] {
  const v = featureValues(f);
  RECORD_COLUMN_LIST.forEach((c, i) => {
    if (ARRAY_COLUMNS.includes(c) && v[i] !== null) v[i] = copyArray(v[i] as string[]);
  });
  return v;
}

export const RECORD_COLUMN_LIST = RECORD_COLUMNS.split(',').map((c) => c.trim());

/**
 * Creates a golden person with its electronic health card number (protect.ts `healthCardNumber`; stored encrypted with
 * its blind index). `region` is the GB/T 2260 code of the issuing region (the resident ID's first six digits when
 * known); `residentId` the ciphertext of the person's resident ID.
 */
export async function createPerson(q: Queryable, residentId: string | null, region = '000000'): Promise<{ personId: string; healthCard: string }> {
  const crypto = cryptoOf(q);
  const [n] = await nextPersonNumbers(q, 1);
  const p = newPersonIdentity(crypto, n, region);
  await q.query('INSERT INTO empi_person (person_id, health_card, health_card_bi, resident_id) VALUES ($1, $2, $3, $4)', [p.personId, p.card, p.cardBi, residentId]);
  return { personId: p.personId, healthCard: healthCardNumber(region, n) };
}

/** SQL expression resolving a direct person id column through merges (cheap when the person was never merged). */
export function resolvedSql(personCol: string, personAlias: string): string {
  return `CASE WHEN ${personAlias}.merged_into IS NULL THEN ${personCol} ELSE empi_resolve(${personCol}) END`;
}

/** The person an institution-level Patient belongs to now (through merges), or undefined when unknown. */
export async function personOfPatient(q: Queryable, patientKey: string): Promise<string | undefined> {
  const { rows } = await q.query<{ pid: string | null }>(
    `SELECT ${resolvedSql('r.person_id', 'p')} AS pid FROM empi_record r LEFT JOIN empi_person p ON p.person_id = r.person_id
     WHERE r.patient_key = $1`,
    [patientKey],
  );
  return rows[0]?.pid ?? undefined;
}

/** Every patient_key of a person: its own records and those of every person merged into it (recursively). */
export async function patientKeysOfPerson(q: Queryable, personId: string): Promise<string[]> {
  const { rows } = await q.query<{ patient_key: string }>(
    `WITH RECURSIVE members(pid) AS (
       SELECT $1::text
       UNION SELECT p.person_id FROM empi_person p JOIN members m ON p.merged_into = m.pid
     )
     SELECT r.patient_key FROM empi_record r JOIN members m ON r.person_id = m.pid ORDER BY r.patient_key`,
    [personId],
  );
  return rows.map((r) => r.patient_key);
}

const GOLDEN_FIELDS: Array<{ field: string; col: string; key?: string; quality: string; where?: string }> = [
  // `key`: what "the same value" is (ciphertexts differ at every write: their blind index), twins: golden.ts FIELDS.
  { field: 'residentId', col: 'resident_id', key: 'rid_bi', quality: '1', where: 'resident_id_valid' },
  { field: 'name', col: 'name', quality: `CASE name_kind WHEN 'zh' THEN 2 WHEN 'latin' THEN 2 ELSE 0 END - (CASE WHEN name LIKE '%?%' THEN 1 ELSE 0 END)` },
  { field: 'birthDate', col: 'birth_date', quality: `CASE WHEN rid_dob THEN 1 ELSE 0 END` },
  { field: 'sex', col: 'sex', quality: '1' },
  { field: 'phone', col: 'phone', key: 'phone_bi', quality: '1' },
  { field: 'village', col: 'village', quality: `CASE WHEN village ~ '^[0-9]{12}$' THEN 1 ELSE 0 END` },
  { field: 'passport', col: 'passport', key: 'passport_bi', quality: '1' },
];

/**
 * Recomputes the best-of-sources golden record of the given (surviving) persons, or of all persons: per field the
 * value of the best-quality source (valid ID, real name over a newborn placeholder), then the most frequent, then the
 * newest; each value keeps the patient_key it came from. Set-based: one statement for any number of persons.
 * A list of persons (incremental mode) goes to the JS twin in golden.ts by default: two indexed queries instead of
 * planning this statement on every incoming Patient.
 */
export async function refreshGolden(q: Queryable, personIds: string[] | 'all' | { sql: string }, engine: 'js' | 'sql' = 'js'): Promise<void> {
  if (Array.isArray(personIds) && engine === 'js') {
    const { refreshGoldenOf } = await import('./golden.ts');
    return refreshGoldenOf(q, personIds);
  }
  const filter = personIds === 'all' ? 'true' : Array.isArray(personIds) ? 'x.pid = ANY($1::text[])' : `x.pid IN (${personIds.sql})`;
  const picks = GOLDEN_FIELDS.map(
    (g) => `pick_${g.col} AS (
      SELECT DISTINCT ON (pid) pid, ${g.col}::text AS v, patient_key AS src FROM (
        SELECT pid, ${g.col}, patient_key, updated_at, (${g.quality}) AS q, count(*) OVER (PARTITION BY pid, ${g.key ?? g.col}) AS c
        FROM recs WHERE ${g.col} IS NOT NULL AND (${g.where ?? 'true'})) y
      ORDER BY pid, q DESC, c DESC, updated_at DESC, patient_key)`,
  );
  const obj = GOLDEN_FIELDS.map(
    (g) => `'${g.field}', CASE WHEN pick_${g.col}.v IS NOT NULL THEN jsonb_build_object('value', pick_${g.col}.v, 'source', pick_${g.col}.src) END`,
  );
  const joins = GOLDEN_FIELDS.map((g) => `LEFT JOIN pick_${g.col} USING (pid)`).join(' ');
  // A list of (surviving) persons: their records through the person index and the merge tree — never a scan, since
  // incremental mode calls this for every incoming Patient. 'all' / a SQL set: one scan for the batch.
  const recs = Array.isArray(personIds)
    ? `members(root, pid) AS (
         SELECT root, root FROM unnest($1::text[]) AS r(root)
         UNION SELECT m.root, p.person_id FROM empi_person p JOIN members m ON p.merged_into = m.pid
       ),
       recs AS (SELECT m.root AS pid, r.* FROM members m JOIN empi_record r ON r.person_id = m.pid WHERE r.status = 'active')`
    : `recs AS (
         SELECT x.* FROM (SELECT ${resolvedSql('r.person_id', 'pp')} AS pid, r.* FROM empi_record r
           JOIN empi_person pp ON pp.person_id = r.person_id WHERE r.status = 'active') x WHERE ${filter}
       )`;
  await q.query(
    `WITH RECURSIVE ${recs}, ${picks.join(',\n')},
     ids AS (SELECT DISTINCT pid FROM recs)
     UPDATE empi_person p SET golden = jsonb_strip_nulls(jsonb_build_object(${obj.join(', ')})),
       resident_id = pick_resident_id.v, updated_at = now()
     FROM ids ${joins}
     WHERE p.person_id = ids.pid`,
    Array.isArray(personIds) ? [personIds] : [],
  );
}

export interface PersonView {
  personId: string;
  healthCard: string;
  residentId: string | null;
  mergedInto: string | null;
  golden: Record<string, { value: string; source: string }>;
  patientKeys: string[];
}

/** A person with its golden record and every linked patient_key, its protected values decrypted (display). */
export async function getPerson(q: Queryable, personId: string): Promise<PersonView | undefined> {
  const { rows } = await q.query<{ person_id: string; health_card: string; resident_id: string | null; merged_into: string | null; golden: PersonView['golden'] }>(
    'SELECT person_id, health_card, resident_id, merged_into, golden FROM empi_person WHERE person_id = $1',
    [personId],
  );
  if (!rows[0]) return undefined;
  const r = rows[0];
  const crypto = cryptoOf(q);
  return {
    personId: r.person_id, healthCard: r.health_card && crypto.open(r.health_card), residentId: r.resident_id && crypto.open(r.resident_id), mergedInto: r.merged_into,
    golden: openGolden(crypto, r.golden), patientKeys: await patientKeysOfPerson(q, personId),
  };
}

/** Records by patient_key, in RecordFeatures shape, their resident ID, phone, passport and identifiers decrypted (display). */
export async function getRecords(q: Queryable, patientKeys: string[]): Promise<RecordFeatures[]> {
  const { rows } = await q.query(`SELECT ${RECORD_COLUMNS} FROM empi_record WHERE patient_key = ANY($1::text[]) ORDER BY patient_key`, [patientKeys]);
  return rows.map((row) => openFeatures(cryptoOf(q), rowToFeatures(row)));
}

/** Stored features with their protected values decrypted, for display (never for storing back). */
export function openFeatures(crypto: FieldCrypto, f: RecordFeatures): RecordFeatures {
  const open = (v: string | null) => (v === null ? null : crypto.open(v));
  return { ...f, residentId: open(f.residentId), phone: open(f.phone), passport: open(f.passport), identifiers: f.identifiers.map((i) => openIdentifier(crypto, i)) };
}

/** A PostgreSQL array literal for COPY's text format (elements quoted, quotes and backslashes escaped). */
function copyArray(values: string[]): string {
  return '{' + values.map((v) => '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"').join(',') + '}';
}

/**
 * Bulk registration of records that are known to be distinct persons — a population registry (全员人口库) imported
 * as it stands, or a benchmark's registry — one golden person per record. Not a dedupe: the caller vouches that no two
 * records are one person (else use `stageRecords` + `batchDedupe`). Records stream by COPY into empi_stage in slices
 * (bounded memory on both engines), then set-based statements, each once for the whole load: records, persons with
 * their health card numbers, golden records, links, the decision and event of each; blocking keys; name counts.
 * Known patient_keys are left alone. Returns the number of persons created.
 */
export async function registerDistinctPersons(db: Db, inputs: Iterable<RecordFeatures>, sliceSize = 20_000): Promise<number> {
  await db.exec('DELETE FROM empi_stage');
  let slice: unknown[][] = [];
  const flush = async () => {
    if (slice.length) await db.copyFrom('empi_stage', RECORD_COLUMN_LIST, slice);
    slice = [];
  };
  for (const f of inputs) {
    slice.push(copyValues(f));
    if (slice.length >= sliceSize) await flush();
  }
  await flush();
  await db.exec('ANALYZE empi_stage');
  const cols = RECORD_COLUMN_LIST.join(', ');
  // A person of one record: each golden field is that record's value (when it qualifies, as in refreshGolden).
  const golden = GOLDEN_FIELDS.map(
    (g) => `'${g.field}', CASE WHEN ${g.col} IS NOT NULL AND (${g.where ?? 'true'}) THEN jsonb_build_object('value', ${g.col}::text, 'source', patient_key) END`,
  ).join(', ');
  // Records, persons and links in one statement: each record is inserted already linked (its person row comes from a
  // sibling CTE, which the foreign key check at the end of the statement sees).
  const { rows } = await db.query<{ n: number }>(
    `WITH n AS MATERIALIZED (
       SELECT x.*, 'P' || lpad(x.s::text, 10, '0') AS pid, CASE WHEN resident_id_valid THEN resident_id END AS rid,
         jsonb_strip_nulls(jsonb_build_object(${golden})) AS golden
       FROM (SELECT y.*, nextval('empi_person_seq') AS s FROM (
         SELECT DISTINCT ON (patient_key) ${cols} FROM empi_stage st
         WHERE NOT EXISTS (SELECT 1 FROM empi_record r WHERE r.patient_key = st.patient_key) ORDER BY patient_key) y) x
     ), p AS (
       INSERT INTO empi_person (person_id, resident_id, golden) SELECT pid, rid, golden FROM n
     ), ins AS (
       INSERT INTO empi_record (${cols}, person_id) SELECT ${cols}, pid FROM n
     ), d AS (
       INSERT INTO empi_decision (patient_key, person_id, outcome, mode) SELECT patient_key, pid, 'new', 'bulk' FROM n
     ), e AS (
       INSERT INTO empi_event (kind, person_id, patient_key, actor, detail) SELECT 'new-person', pid, patient_key, 'bulk', '{}' FROM n
     )
     SELECT count(*)::int AS n FROM n`,
  );
  // Health card numbers carry the region of the resident ID, which only the keys can read: issued here, in JS.
  await db.transaction((tx) => issueHealthCards(tx, 'SELECT r.person_id FROM empi_record r WHERE r.patient_key IN (SELECT patient_key FROM empi_stage)'));
  await db.query(blockKeysInsertSql(`patient_key IN (SELECT patient_key FROM empi_stage) AND NOT EXISTS (SELECT 1 FROM empi_block b WHERE b.patient_key = empi_record.patient_key)`));
  await recountNames(db);
  // VACUUM sets the visibility map, so the index-only scans of the blocking keys skip the heap from the first match
  // on (autovacuum keeps it so afterwards); outside any transaction, as VACUUM requires.
  await db.exec('DELETE FROM empi_stage');
  for (const t of ['empi_record', 'empi_block', 'empi_person', 'empi_name_tf']) await db.exec(`VACUUM (ANALYZE) ${t}`);
  return rows[0].n;
}
