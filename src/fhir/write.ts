/**
 * The set-based write path shared by single interactions and Bundles: all versions a request produces are written
 * with a few multi-row statements per table (`jsonb_to_recordset` of one JSON parameter), not one statement per
 * resource — the ingest target is ≥ 5,000 resources/s through transaction Bundles.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../store/index.ts';
import { extractColumns } from './extract.ts';
import { conflict } from '@medplum/core';
import { fail, precondition } from './outcomes.ts';
import { cryptoOf, openResource, protectForStore } from './protect.ts';
import { tableFor } from './tables.ts';

/** One write a request asks for; `resource` is already validated and its references resolved. */
export interface WriteOp {
  method: 'create' | 'update' | 'delete';
  resourceType: string;
  id: string;
  resource?: Resource;
  /** `If-Match` version (W/"n" already parsed to n). */
  ifMatch?: number;
}

export interface WriteResult {
  /** The stored version; undefined when a delete found nothing to delete. */
  resource?: Resource;
  /** 201 for a new resource (create, update-as-create), 200 otherwise, 204 for a delete. */
  status: 200 | 201 | 204;
  /** For the audit of writes: what was written, the version it replaced and the version it stored (none: nothing). */
  written?: { resourceType: string; id: string; patientKey: string; before?: number; after: number; deleted: boolean };
}

/** A stored row a write is about to replace, as the access check sees it. */
export interface StoredRow {
  resourceType: string;
  id: string;
  patientKey: string;
  /** The institution that submitted it (null: none, e.g. written by an operator). */
  institutionId: string | null;
}

/** Who writes, beyond the institution stored on every version (issue 10 access rules). */
export interface WriteAs {
  /** A person (not an institution's system) writes: such rows never count as care relationships. */
  userWritten?: boolean;
  /** Called for every stored row an update or delete replaces, inside the transaction; throws to refuse. */
  checkStored?: (row: StoredRow) => void;
}

interface Current {
  resource_type: string;
  id: string;
  patient_key: string;
  institution_id: string | null;
  version_id: number;
  deleted: boolean;
  content: Resource;
}

const COLUMNS = `patient_key text, resource_type text, id text, version_id int, last_updated timestamptz, deleted boolean,
  institution_id text, content jsonb, status text, identifiers text[], codes text[], categories text[], tokens text[],
  strings text[], refs text[], date_lo timestamptz, date_hi timestamptz, user_written boolean`;
const NAMES = `patient_key, resource_type, id, version_id, last_updated, deleted, institution_id, content, status,
  identifiers, codes, categories, tokens, strings, refs, date_lo, date_hi, user_written`;
const HISTORY_NAMES = 'patient_key, resource_type, id, version_id, last_updated, deleted, institution_id, content, user_written';

/**
 * Applies `ops` inside the caller's transaction, in order of the array, and returns one result per op.
 * Updates and deletes lock the current rows first (SELECT … FOR UPDATE), so If-Match checks are exact under
 * concurrency. Throws 412 on a version mismatch (the caller's transaction then rolls back).
 */
export async function applyWrites(tx: Queryable, ops: WriteOp[], now: Date, institutionId: string | undefined, as: WriteAs = {}): Promise<WriteResult[]> {
  const crypto = cryptoOf(tx);
  const current = await lockCurrent(tx, ops.filter((o) => o.method !== 'create'));
  if (as.checkStored) {
    for (const c of current.values()) as.checkStored({ resourceType: c.resource_type, id: c.id, patientKey: c.patient_key, institutionId: c.institution_id });
  }
  const lastUpdated = now.toISOString();
  const rows = new Map<string, Record<string, unknown>[]>();
  const replaced = new Map<string, Current[]>();
  const results: WriteResult[] = [];
  for (const op of ops) {
    const key = `${op.resourceType}/${op.id}`;
    const cur = current.get(key);
    const live = cur && !cur.deleted ? cur : undefined;
    if (op.ifMatch !== undefined && cur?.version_id !== op.ifMatch) {
      fail(precondition(`If-Match W/"${op.ifMatch}" does not match ${key} (current version ${cur ? cur.version_id : 'none'})`));
    }
    if (op.method === 'delete' && !live) {
      results.push({ status: 204 });
      continue;
    }
    const versionId = (cur?.version_id ?? 0) + 1;
    const base = op.method === 'delete' ? (live as Current).content : (op.resource as Resource);
    const resource = { ...base, id: op.id, meta: { ...base.meta, versionId: String(versionId), lastUpdated } } as Resource;
    // Protected identifiers and phones: ciphertext in content, blind indexes in the search columns (protect.ts).
    const stored = protectForStore(crypto, resource);
    const cols = extractColumns(stored.searchable);
    const table = tableFor(op.resourceType);
    if (cur) {
      const list = replaced.get(table) ?? [];
      list.push(cur);
      replaced.set(table, list);
      current.set(key, { ...cur, version_id: versionId, deleted: op.method === 'delete', content: resource, patient_key: cols.patientKey, institution_id: institutionId ?? null });
    } else {
      current.set(key, { resource_type: op.resourceType, id: op.id, patient_key: cols.patientKey, institution_id: institutionId ?? null, version_id: versionId, deleted: false, content: resource });
    }
    const list = rows.get(table) ?? [];
    list.push({
      patient_key: cols.patientKey, resource_type: op.resourceType, id: op.id, version_id: versionId, last_updated: lastUpdated,
      deleted: op.method === 'delete', institution_id: institutionId ?? null, content: stored.content, status: cols.status,
      // Empty arrays are stored as NULL: the partial GIN indexes skip those rows (migration 0012).
      identifiers: orNull(cols.identifiers), codes: orNull(cols.codes), categories: orNull(cols.categories), tokens: orNull(cols.tokens),
      strings: orNull(cols.strings), refs: orNull(cols.refs), date_lo: cols.dateLo, date_hi: cols.dateHi, user_written: as.userWritten === true,
    });
    rows.set(table, list);
    results.push({
      resource: op.method === 'delete' ? undefined : resource, status: op.method === 'delete' ? 204 : cur && !cur.deleted ? 200 : 201,
      written: { resourceType: op.resourceType, id: op.id, patientKey: cols.patientKey, before: live?.version_id, after: versionId, deleted: op.method === 'delete' },
    });
  }
  for (const [table, list] of replaced) {
    await tx.query(
      `DELETE FROM ${table} WHERE (patient_key, resource_type, id) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
      [list.map((c) => c.patient_key), list.map((c) => c.resource_type), list.map((c) => c.id)],
    );
  }
  for (const [table, list] of rows) {
    // One statement per table: the JSON is parsed once and feeds both the current table and the history. A resource
    // written twice in one request keeps only its last version as current; every version goes to history.
    const last = new Map(list.map((r) => [`${r.resource_type}/${r.id}`, r]));
    for (const r of list) r.is_current = last.get(`${r.resource_type}/${r.id}`) === r;
    await tx
      .query(
        `WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(${COLUMNS}, is_current boolean)),
              cur AS (INSERT INTO ${table} (${NAMES}) SELECT ${NAMES} FROM x WHERE is_current)
         INSERT INTO ${table}_history (${HISTORY_NAMES}) SELECT ${HISTORY_NAMES} FROM x`,
        [JSON.stringify(list)],
      )
      .catch((err: unknown) => {
        // Two requests creating the same client-chosen id at once: the loser gets 409, as FHIR suggests for races.
        if ((err as { code?: string }).code === '23505') fail(conflict('A concurrent request wrote the same resource; retry'));
        throw err;
      });
  }
  return results;
}

function orNull(a: string[]): string[] | null {
  return a.length ? a : null;
}

async function lockCurrent(tx: Queryable, ops: WriteOp[]): Promise<Map<string, Current>> {
  const out = new Map<string, Current>();
  const byTable = new Map<string, WriteOp[]>();
  for (const op of ops) {
    const t = tableFor(op.resourceType);
    byTable.set(t, [...(byTable.get(t) ?? []), op]);
  }
  for (const [table, list] of byTable) {
    const r = await tx.query<Current>(
      `SELECT resource_type, id, patient_key, institution_id, version_id, deleted, content FROM ${table}
        WHERE (resource_type, id) IN (SELECT * FROM unnest($1::text[], $2::text[])) FOR UPDATE`,
      [list.map((o) => o.resourceType), list.map((o) => o.id)],
    );
    for (const row of r.rows) out.set(`${row.resource_type}/${row.id}`, { ...row, content: openResource(cryptoOf(tx), row.content) });
  }
  return out;
}
