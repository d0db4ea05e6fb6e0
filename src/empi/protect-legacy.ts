/**
 * The migration path of encryption at rest for a database whose EMPI rows were written before it (migration 0460):
 * records still holding a clear resident ID, phone, passport or identifiers get their ciphertexts and keyed forms
 * (re-derived from the clear values, which are then gone) and their resident-ID, phone and passport blocking keys;
 * persons get their health card, resident ID and golden record's protected values encrypted; the batch work tables,
 * which only a batch run reads, are emptied. Run at start-up (openPlatform); a fresh or already protected database
 * costs two probes. Chunked, one transaction per chunk, so an interrupted run resumes where it stopped.
 */
import type { Db, Queryable } from '../store/index.ts';
import { blockKeys } from './blocking.ts';
import { RECORD_COLUMNS } from './comparisons.ts';
import { protectFeatures } from './features.ts';
import { cryptoOf } from './protect.ts';
import { featureValues, RECORD_COLUMN_LIST, rowToFeatures } from './registry.ts';

const CHUNK = 5000;
/** Blocking rules whose keys are built from a protected value (their old keys hold it in clear). */
const PROTECTED_RULES = ['r:', 'p:', 'x:'];
const CLEAR = (col: string) => `(${col} IS NOT NULL AND ${col} NOT LIKE 'sm4:%')`;
const LEGACY_RECORD = `(${CLEAR('resident_id')} OR ${CLEAR('phone')} OR ${CLEAR('passport')} OR (cardinality(identifiers) > 0 AND identifier_bis = '{}'))`;
const LEGACY_PERSON = `(${CLEAR('health_card')} OR ${CLEAR('resident_id')} OR ${CLEAR(`golden #>> '{residentId,value}'`)} OR ${CLEAR(`golden #>> '{phone,value}'`)} OR ${CLEAR(`golden #>> '{passport,value}'`)})`;

/** Protects every legacy EMPI row; returns how many records and persons it rewrote. */
export async function protectLegacyEmpiRows(db: Db): Promise<{ records: number; persons: number }> {
  let records = 0;
  let persons = 0;
  for (;;) {
    const n = await db.transaction((tx) => protectRecords(tx));
    records += n;
    if (n < CHUNK) break;
  }
  for (;;) {
    const n = await db.transaction((tx) => protectPersons(tx));
    persons += n;
    if (n < CHUNK) break;
  }
  if (records || persons) await db.exec('TRUNCATE empi_batch_pair, empi_batch_edge, empi_batch_cc, empi_batch_group, empi_batch_person; DELETE FROM empi_stage;');
  return { records, persons };
}

async function protectRecords(tx: Queryable): Promise<number> {
  const crypto = cryptoOf(tx);
  const { rows } = await tx.query(`SELECT ${RECORD_COLUMNS} FROM empi_record WHERE ${LEGACY_RECORD} ORDER BY patient_key LIMIT ${CHUNK} FOR UPDATE`);
  if (!rows.length) return 0;
  const cols = RECORD_COLUMN_LIST.filter((c) => c !== 'patient_key');
  const sets = cols.map((c) => `${c} = u.${c}`).join(', ');
  const updates: Record<string, unknown>[] = [];
  const keys: string[][] = [];
  for (const row of rows) {
    // The stored clear values (a value already encrypted is opened: a row half-protected by an older run).
    const old = rowToFeatures(row);
    const open = (v: string | null) => (v === null ? null : crypto.open(v));
    const f = protectFeatures(
      { ...old, residentId: open(old.residentId), phone: open(old.phone), passport: open(old.passport), identifiers: old.identifiers.map((i) => i.slice(0, i.indexOf('|') + 1) + crypto.open(i.slice(i.indexOf('|') + 1))) },
      crypto,
    );
    const values = featureValues(f);
    updates.push(Object.fromEntries(RECORD_COLUMN_LIST.map((c, i) => [c, values[i]])));
    for (const k of blockKeys(f)) if (PROTECTED_RULES.some((p) => k.startsWith(p))) keys.push([k, f.patientKey]);
  }
  const pks = rows.map((r) => r.patient_key as string);
  await tx.query(`UPDATE empi_record t SET ${sets} FROM jsonb_populate_recordset(NULL::empi_record, $1::jsonb) AS u WHERE t.patient_key = u.patient_key`, [JSON.stringify(updates)]);
  await tx.query(`DELETE FROM empi_block WHERE patient_key = ANY($1::text[]) AND left(key, 2) = ANY($2::text[])`, [pks, PROTECTED_RULES]);
  await tx.query('INSERT INTO empi_block (key, patient_key) SELECT * FROM unnest($1::text[], $2::text[])', [keys.map((k) => k[0]), keys.map((k) => k[1])]);
  return rows.length;
}

async function protectPersons(tx: Queryable): Promise<number> {
  const crypto = cryptoOf(tx);
  const { rows } = await tx.query<{ person_id: string; health_card: string | null; resident_id: string | null; golden: Record<string, { value: string; source: string }> }>(
    `SELECT person_id, health_card, resident_id, golden FROM empi_person WHERE ${LEGACY_PERSON} ORDER BY person_id LIMIT ${CHUNK} FOR UPDATE`,
  );
  if (!rows.length) return 0;
  const enc = (v: string | null) => (v === null ? null : v.startsWith('sm4:') ? v : crypto.encrypt(v));
  const out = rows.map((r) => {
    const golden = { ...r.golden };
    for (const f of ['residentId', 'phone', 'passport']) if (golden[f]) golden[f] = { ...golden[f], value: enc(golden[f].value)! };
    const card = r.health_card === null ? null : crypto.open(r.health_card);
    return { pid: r.person_id, card: enc(r.health_card), bi: card && crypto.blindIndex('health-card', card), rid: enc(r.resident_id), golden: JSON.stringify(golden) };
  });
  await tx.query(
    `UPDATE empi_person p SET health_card = x.card, health_card_bi = x.bi, resident_id = x.rid, golden = x.golden::jsonb
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(pid, card, bi, rid, golden) WHERE p.person_id = x.pid`,
    [out.map((x) => x.pid), out.map((x) => x.card), out.map((x) => x.bi), out.map((x) => x.rid), out.map((x) => x.golden)],
  );
  return rows.length;
}
