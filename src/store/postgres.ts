import type { FieldCrypto } from '../crypto/index.ts';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFromStream } from 'pg-copy-streams';
import { Unavailable } from './unavailable.ts';
import { copyText, type Db, type Queryable, type QueryOptions, type QueryResult } from './db.ts';

// Same value conventions as the PGlite engine (see db.ts).
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    if (oid === 1082) return (v: string) => v;
    return pg.types.getTypeParser(oid, format);
  },
};

export interface PostgresOptions {
  /** Pool size; the default suits a 2-core node. */
  max?: number;
  /** Schema to use (created if missing): each test suite gets its own, like a tenant. */
  schema?: string;
  /**
   * How long a statement may wait for a free pool connection before it fails with `Unavailable` (503 + Retry-After
   * over HTTP) instead of waiting without bound, ms. Default 30 s (a loaded 2-core machine took over 15 s to open one).
   */
  connectTimeoutMs?: number;
}

/**
 * pg-pool's messages (they have no code) when no connection was free within connectionTimeoutMillis, or a new one could
 * not be opened within it.
 */
const POOL_TIMEOUT = /timeout exceeded when trying to connect|terminated due to connection timeout/i;
const unavailable = (err: unknown): unknown =>
  err instanceof Error && POOL_TIMEOUT.test(err.message) ? new Unavailable('every database connection is busy: try again shortly', 2) : err;

/** Opens a pooled connection to PostgreSQL at `url`. */
export async function openPostgres(url: string, options: PostgresOptions, crypto: FieldCrypto): Promise<Db> {
  const schema = options.schema;
  if (schema) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    try {
      await setup.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await setup.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 30_000,
    types: typeParsers,
    ...(schema ? { options: `-c search_path=${schema},public` } : {}),
  });
  return new PostgresDb(pool, crypto);
}

function wrap(c: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
      // A prepared statement is named after its text, so every caller of the same SQL shares it on a connection.
      const r = await (options?.prepare ? c.query({ name: 'p' + createHash('sha1').update(sql).digest('hex').slice(0, 24), text: sql, values: params }) : c.query(sql, params)).catch((err) => {
        throw unavailable(err);
      });
      return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await c.query(sql).catch((err) => {
        throw unavailable(err);
      });
    },
  };
}

class PostgresDb implements Db {
  readonly engine = 'postgres' as const;
  crypto: FieldCrypto;
  readonly #pool: pg.Pool;
  readonly #q: Queryable;
  constructor(pool: pg.Pool, crypto: FieldCrypto) {
    this.crypto = crypto;
    this.#pool = pool;
    this.#q = wrap(pool);
  }
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    return this.#q.query<R>(sql, params, options);
  }
  exec(sql: string): Promise<void> {
    return this.#q.exec(sql);
  }
  async #withClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect().catch((err) => {
      throw unavailable(err);
    });
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#withClient(async (client) => {
      await client.query('BEGIN');
      try {
        const result = await fn({ ...wrap(client), crypto: this.crypto });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }
  copyFrom(table: string, columns: string[], rows: Iterable<unknown[]>): Promise<number> {
    return this.#withClient(async (client) => {
      let count = 0;
      const source = Readable.from(
        (function* () {
          let chunk: string[] = [];
          for (const row of rows) {
            chunk.push(row.map(copyText).join('\t') + '\n');
            count++;
            if (chunk.length >= 1000) {
              yield chunk.join('');
              chunk = [];
            }
          }
          if (chunk.length) yield chunk.join('');
        })(),
      );
      await pipeline(source, client.query(copyFromStream(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)));
      return count;
    });
  }
  async close(): Promise<void> {
    await this.#pool.end();
  }
}
