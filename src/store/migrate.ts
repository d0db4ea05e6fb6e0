import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Applies the versioned SQL files in `store/migrations/` that this database has not seen yet, in name order, each in
 * its own transaction. Safe to run at every start-up and on a database that already holds data. File names are
 * `NNNN_module_what.sql`; each module owns a number range (see docs/ARCHITECTURE.md) so parallel work never collides.
 */
export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<string[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migration (
    name text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const done = new Set((await db.query<{ name: string }>('SELECT name FROM schema_migration')).rows.map((r) => r.name));
  const applied: string[] = [];
  for (const file of files) {
    if (done.has(file)) continue;
    const sql = readFileSync(dir + file, 'utf8');
    await db.transaction(async (tx) => {
      // A concurrent starter may have applied it between our read and now: the lock makes the check exact.
      await tx.query('LOCK TABLE schema_migration IN EXCLUSIVE MODE');
      const again = await tx.query('SELECT 1 FROM schema_migration WHERE name = $1', [file]);
      if (again.rows.length) return;
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migration (name) VALUES ($1)', [file]);
      applied.push(file);
    });
  }
  return applied;
}
