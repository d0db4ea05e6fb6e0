import { randomBytes } from 'node:crypto';
import type { KeyRing } from '../../src/crypto/index.ts';
import { openDb, type Db } from '../../src/store/index.ts';

/**
 * A fresh, migrated database for one test suite: in-memory PGlite by default, or — when DATABASE_URL is set — a
 * schema of its own on that PostgreSQL server (a tenant per suite, so suites never see each other's rows). `keys`:
 * a key ring shared by two databases a test compares (their ciphertexts decrypt and blind indexes agree across both).
 */
export async function openTestDb(options: { keys?: KeyRing } = {}): Promise<Db> {
  const url = process.env.DATABASE_URL;
  if (!url) return openDb({ keys: options.keys });
  const schema = 't_' + randomBytes(6).toString('hex');
  const db = await openDb({ databaseUrl: url, schema, poolSize: 4, keys: options.keys });
  const close = db.close.bind(db);
  db.close = async () => {
    await db.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await close();
  };
  return db;
}
