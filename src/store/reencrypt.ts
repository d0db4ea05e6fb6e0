/**
 * Field-key rotation at rest (密评, GB/T 39786-2021 密钥更新): every SM4 ciphertext (`sm4:<v>:…` in text, text[] and
 * jsonb columns) and every sealed byte string (`HBE1`‖v… in bytea columns) still under an older key version is
 * re-encrypted under the current one. Generic over the schema — the FHIR store, the landing store and the EMPI's own
 * columns alike — because a column this file had to list is a column a later module forgets.
 *
 * Resumable by construction: each batch (rows locked FOR UPDATE, rewritten by ctid) commits on its own, and a row
 * once rewritten holds no old version any more, so a second run continues where the first stopped. Tables are walked
 * in ctid order (a TID range scan), so a batch never rescans what earlier batches passed. Blind indexes are not
 * touched: they are under the index key, which this does not rotate.
 */
import { FieldCrypto, isCiphertext, isSealed, loadOrCreateKeyRing, retireFieldKeys, rotateFieldKey } from '../crypto/index.ts';
import type { Db, Queryable } from './db.ts';

export interface CipherColumn {
  table: string;
  column: string;
  kind: 'text' | 'array' | 'jsonb' | 'bytea';
}

/** Columns of the current schema's tables that can hold a ciphertext or sealed bytes. */
export async function cipherColumns(db: Queryable): Promise<CipherColumn[]> {
  const { rows } = await db.query<{ table_name: string; column_name: string; data_type: string; udt_name: string }>(
    `SELECT c.table_name, c.column_name, c.data_type, c.udt_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
      WHERE c.table_schema = current_schema() AND c.udt_name IN ('text', '_text', 'jsonb', 'bytea')
      ORDER BY 1, 2`,
  );
  const kind = { text: 'text', _text: 'array', jsonb: 'jsonb', bytea: 'bytea' } as const;
  return rows.map((r) => ({ table: r.table_name, column: r.column_name, kind: kind[r.udt_name as keyof typeof kind] }));
}

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** The SQL test that a column's value holds some ciphertext (any version: the version is checked in JS). */
function mayHold(c: CipherColumn): string {
  if (c.kind === 'bytea') return `substring(${q(c.column)} from 1 for 4) = '\\x48424531'::bytea`;
  return `strpos(${q(c.column)}::text, 'sm4:') > 0`;
}

/** Ciphertexts per key version in one column (`keys status`). */
export async function versionCounts(db: Queryable, c: CipherColumn): Promise<Map<number, number>> {
  const sql =
    c.kind === 'bytea'
      ? `SELECT get_byte(${q(c.column)}, 4) * 256 + get_byte(${q(c.column)}, 5) AS v, count(*)::int AS n
           FROM ${q(c.table)} WHERE ${mayHold(c)} AND length(${q(c.column)}) >= 54 GROUP BY 1`
      : `SELECT m[1]::int AS v, count(*)::int AS n FROM ${q(c.table)}, regexp_matches(${q(c.column)}::text, 'sm4:([0-9]+):', 'g') AS m
          WHERE ${mayHold(c)} GROUP BY 1`;
  const { rows } = await db.query<{ v: number; n: number }>(sql);
  return new Map(rows.map((r) => [Number(r.v), Number(r.n)]));
}

/** A value with every ciphertext under another version than the current re-encrypted; undefined when none was. */
function rewrap(crypto: FieldCrypto, value: unknown, kind: CipherColumn['kind']): unknown {
  const current = crypto.currentVersion;
  let changed = false;
  const fix = (s: string): string => {
    if (!isCiphertext(s) || FieldCrypto.versionOf(s) === current) return s;
    changed = true;
    return crypto.encrypt(crypto.decrypt(s));
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fix(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  if (kind === 'bytea') {
    const b = value as Uint8Array;
    if (!isSealed(b) || ((b[4] << 8) | b[5]) === current) return undefined;
    return crypto.seal(crypto.unseal(b));
  }
  const out = walk(value);
  return changed ? out : undefined;
}

export interface ReencryptResult {
  table: string;
  column: string;
  /** Rows rewritten. */
  rows: number;
}

/**
 * Re-encrypts every old-version ciphertext of `db` under `db.crypto`'s current version, `batch` rows per
 * transaction. `onBatch` sees progress. Returns the rows rewritten per column (columns with none left out).
 */
export async function reencryptAll(db: Db, options: { batch?: number; onBatch?: (r: ReencryptResult) => void } = {}): Promise<ReencryptResult[]> {
  const batch = options.batch ?? 500;
  const out: ReencryptResult[] = [];
  for (const c of await cipherColumns(db)) {
    const done: ReencryptResult = { table: c.table, column: c.column, rows: 0 };
    let after = '(0,0)';
    for (;;) {
      const seen = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ t: string; v: unknown }>(
          `SELECT ctid::text AS t, ${q(c.column)} AS v FROM ${q(c.table)}
            WHERE ctid > $1::tid AND ${mayHold(c)} ORDER BY ctid LIMIT ${batch} FOR UPDATE`,
          [after],
        );
        const crypto = db.crypto;
        const fixed = rows.flatMap((r) => {
          const v = rewrap(crypto, r.v, c.kind);
          return v === undefined ? [] : [{ t: r.t, v }];
        });
        if (fixed.length) {
          const tids = fixed.map((f) => f.t);
          // One statement per batch, the rows found by TID scan (`ctid = ANY`), their new values joined by ctid.
          let source: string;
          let values: unknown;
          if (c.kind === 'array') {
            // text[] values travel as jsonb (unnest would flatten an array of arrays).
            source = `SELECT (x->>0)::tid AS t, ARRAY(SELECT jsonb_array_elements_text(x->1)) AS v FROM jsonb_array_elements($2::jsonb) AS x`;
            values = JSON.stringify(fixed.map((f) => [f.t, f.v]));
          } else {
            source = `SELECT t::tid AS t, v::${c.kind} AS v FROM unnest($1::text[], $2::text[]) AS x(t, v)`;
            values = fixed.map((f) => (c.kind === 'bytea' ? '\\x' + Buffer.from(f.v as Uint8Array).toString('hex') : c.kind === 'jsonb' ? JSON.stringify(f.v) : f.v));
          }
          await tx.query(
            `UPDATE ${q(c.table)} AS d SET ${q(c.column)} = s.v FROM (${source}) AS s WHERE d.ctid = ANY($1::text[]::tid[]) AND d.ctid = s.t`,
            [tids, values],
          );
        }
        done.rows += fixed.length;
        return rows.length ? rows[rows.length - 1].t : undefined;
      });
      if (!seen) break;
      after = seen;
      options.onBatch?.(done);
    }
    if (done.rows) out.push(done);
  }
  return out;
}

export interface KeyStatus {
  current: number;
  versions: number[];
  /** Ciphertexts per version, per column that holds any. */
  columns: Array<{ table: string; column: string; versions: Record<string, number> }>;
}

/** `keys status`: the ring's versions and how many ciphertexts each column holds under each. */
export async function keyStatus(db: Db, dataDir: string): Promise<KeyStatus> {
  const ring = loadOrCreateKeyRing(dataDir);
  const columns: KeyStatus['columns'] = [];
  for (const c of await cipherColumns(db)) {
    const counts = await versionCounts(db, c);
    if (counts.size) columns.push({ table: c.table, column: c.column, versions: Object.fromEntries([...counts].sort((a, b) => a[0] - b[0])) });
  }
  return { current: ring.current, versions: [...ring.field.keys()].sort((a, b) => a - b), columns };
}

export interface RotationResult {
  /** The version everything is under now. */
  current: number;
  /** Versions dropped from the ring after re-encryption. */
  retired: number[];
  rewritten: ReencryptResult[];
}

/**
 * `keys rotate`: a new field-key version in `<dataDir>/keys` (unless `resume`: finish an interrupted rotation under
 * the current one), made current for this database at once (new writes use it), every older ciphertext re-encrypted,
 * then the versions nothing uses any more retired from the key file. Other nodes sharing the key file must restart to
 * load the new version before the old one is retired (docs/SECURITY.md): run it on a single node, or stop the others.
 */
export async function rotateFieldKeys(db: Db, dataDir: string, options: { resume?: boolean; batch?: number; onBatch?: (r: ReencryptResult) => void } = {}): Promise<RotationResult> {
  // The file must be this database's ring (same index key): rotating another one would strand every ciphertext.
  const probe = (c: FieldCrypto) => c.blindIndex('key-ring-check', dataDir);
  if (probe(new FieldCrypto(loadOrCreateKeyRing(dataDir))) !== probe(db.crypto)) {
    throw new Error(`the database's key ring is not the one in ${dataDir}/keys: rotate with the data directory the server was started with`);
  }
  const ring = options.resume ? loadOrCreateKeyRing(dataDir) : rotateFieldKey(dataDir);
  db.crypto = new FieldCrypto(ring);
  const rewritten = await reencryptAll(db, options);
  // Retire only what no column still holds (a row written by a node that had not reloaded keeps its version alive).
  const inUse = new Set<number>();
  for (const c of await cipherColumns(db)) for (const v of (await versionCounts(db, c)).keys()) inUse.add(v);
  const before = [...ring.field.keys()];
  const after = retireFieldKeys(dataDir, inUse);
  db.crypto = new FieldCrypto(after);
  return { current: after.current, retired: before.filter((v) => !after.field.has(v)), rewritten };
}
