import { join } from 'node:path';
import { FieldCrypto, loadOrCreateKeyRing, type KeyRing } from '../crypto/index.ts';
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

export interface OpenOptions {
  /** PostgreSQL URL; when absent the embedded engine is used. */
  databaseUrl?: string;
  /** Platform data directory; the embedded database lives in `<dataDir>/pglite`. Undefined = in memory. */
  dataDir?: string;
  /** PostgreSQL schema (tests isolate suites this way). */
  schema?: string;
  poolSize?: number;
  /** The key ring (tests); otherwise `<dataDir>/keys/platform-keys.json`, created on first use (in memory without a data dir). */
  keys?: KeyRing;
}

/** Opens the configured engine and brings its schema up to date. */
export async function openDb(options: OpenOptions): Promise<Db> {
  const crypto = new FieldCrypto(options.keys ?? loadOrCreateKeyRing(options.dataDir));
  const db = options.databaseUrl
    ? await openPostgres(options.databaseUrl, { schema: options.schema, max: options.poolSize }, crypto)
    : await openPglite(options.dataDir ? join(options.dataDir, 'pglite') : undefined, crypto);
  await migrate(db);
  return db;
}
