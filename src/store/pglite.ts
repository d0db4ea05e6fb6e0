import type { FieldCrypto } from '../crypto/index.ts';
import { PGlite, types } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { copyLines, type Db, type Queryable, type QueryResult } from './db.ts';

const parsers = {
  [types.INT8]: (v: string) => Number(v),
  [types.NUMERIC]: (v: string) => Number(v),
  [types.DATE]: (v: string) => v,
};

/** Opens the embedded engine: file-backed at `dataDir`, or in memory when `dataDir` is undefined. */
export async function openPglite(dataDir: string | undefined, crypto: FieldCrypto): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = new PGlite(dataDir ?? 'memory://', { parsers });
  await pg.waitReady;
  return new PgliteDb(pg, crypto);
}

/**
 * PGlite runs in this thread and settles its promises as microtasks, so a loop of queries (a standardization
 * backlog, a batch dedupe) would never let timers or sockets run: HTTP and MLLP would stop answering until it ends.
 * Every query therefore gives the event loop a turn once ~10 ms of uninterrupted database work have passed.
 */
const YIELD_AFTER_MS = 10;
let lastYield = performance.now();
async function yieldIfBusy(): Promise<void> {
  const now = performance.now();
  if (now - lastYield < YIELD_AFTER_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastYield = performance.now();
}

function wrap(q: Pick<PGlite, 'query' | 'exec'>): Queryable {
  return {
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const r = await q.query<R>(sql, params as unknown[]);
      await yieldIfBusy();
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await q.exec(sql);
      await yieldIfBusy();
    },
  };
}

class PgliteDb implements Db {
  readonly engine = 'pglite' as const;
  crypto: FieldCrypto;
  readonly #pg: PGlite;
  readonly #q: Queryable;
  #started = 0;
  get started(): number {
    return this.#started;
  }
  constructor(pg: PGlite, crypto: FieldCrypto) {
    this.crypto = crypto;
    this.#pg = pg;
    this.#q = wrap(pg);
  }
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
    this.#started++;
    return this.#q.query<R>(sql, params);
  }
  exec(sql: string): Promise<void> {
    this.#started++;
    return this.#q.exec(sql);
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.#started++;
    return this.#pg.transaction((tx) => fn({ ...wrap(tx), crypto: this.crypto }));
  }
  async copyFrom(table: string, columns: string[], rows: Iterable<unknown[]>): Promise<number> {
    const { text, count } = copyLines(rows);
    if (count === 0) return 0;
    this.#started++;
    const blob = new Blob([text]);
    await this.#pg.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`, [], { blob });
    return count;
  }
  async close(): Promise<void> {
    await this.#pg.close();
  }
}
