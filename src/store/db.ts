/**
 * The storage seam: one SQL dialect (PostgreSQL 15+), two engines (PGlite embedded, PostgreSQL via `pg`).
 * Everything above `store/` talks to a `Db`; nothing else imports an engine.
 *
 * Type conventions shared by both engines: int8 and numeric come back as JS numbers, `date` as 'YYYY-MM-DD'
 * strings, timestamptz as Date, jsonb as parsed values.
 */
import type { FieldCrypto } from '../crypto/index.ts';

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Per-query options. */
export interface QueryOptions {
  /**
   * Run as a named prepared statement (PostgreSQL: parsed and planned once per connection, then a plan reused). For
   * hot statements of fixed text, e.g. incremental matching's; the embedded engine ignores it.
   */
  prepare?: boolean;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
  /** Runs one or more statements without parameters (DDL, migrations). */
  exec(sql: string): Promise<void>;
  /**
   * The crypto of the database this runs on (`Db.crypto`), also on its transactions: code handed only a transaction
   * (the EMPI inside an ingestion unit) encrypts and blind-indexes with its database's keys. Absent on bare wrappers.
   */
  readonly crypto?: FieldCrypto;
}

export interface Db extends Queryable {
  readonly engine: 'pglite' | 'postgres';
  /**
   * Encryption at rest for this database's protected values (resident ID, phone, card number, the landing store's
   * bytes) and its audit key: the key ring of the data directory it was opened with (src/crypto). Set by `openDb`.
   */
  crypto: FieldCrypto;
  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Bulk-loads rows with COPY FROM STDIN (text format). Used by batch paths and as the benchmarks' physical limit.
   * `rows` are arrays of column values; null becomes \N.
   */
  copyFrom(table: string, columns: string[], rows: Iterable<unknown[]>): Promise<number>;
  /**
   * Embedded engine only: how many statements, transactions and COPYs callers have started on it so far. It serves
   * one at a time, so a background job that sees others start during its transaction knows they waited for it.
   */
  readonly started?: number;
  close(): Promise<void>;
}

/** Escapes one value for COPY's text format. */
export function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const s =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

export function copyLines(rows: Iterable<unknown[]>): { text: string; count: number } {
  const parts: string[] = [];
  let count = 0;
  for (const row of rows) {
    parts.push(row.map(copyText).join('\t'));
    count++;
  }
  return { text: parts.length ? parts.join('\n') + '\n' : '', count };
}

/**
 * A deadlock victim or a serialization failure (SQLSTATE 40P01, 40001): nothing was committed and running the same
 * transaction again is expected to succeed — concurrent writers locked the same rows in another order.
 */
export function isTransientConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}
