import { randomBytes } from 'node:crypto';
import { openDb, type Db } from '../../src/store/index.ts';

/**
 * A fresh, migrated database for one test suite: in-memory PGlite by default, or — when DATABASE_URL is set — a
 * schema of its own on that PostgreSQL server (a tenant per suite, so suites never see each other's rows).
 */
export async function openTestDb(): Promise<Db> {
  const url = process.env.DATABASE_URL;
  if (!url) return openDb({});
  const schema = 't_' + randomBytes(6).toString('hex');
  const db = await openDb({ databaseUrl: url, schema, poolSize: 4 });
  const close = db.close.bind(db);
  db.close = async () => {
    await db.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await close();
  };
  return db;
}
