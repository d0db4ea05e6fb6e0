import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import { openTestDb } from '../../test/support/db.ts';
import { loadOrCreateKeyRing } from '../crypto/index.ts';
import { openDb, type Db, type Queryable } from '../store/index.ts';
import { feedCounts } from './counts.ts';
import { landUnits } from './landing.ts';
import { landingSource } from './types.ts';
import { drainQueue } from './worker.ts';

const child = fileURLToPath(new URL('./testing/crash-child.ts', import.meta.url));
const postgres = !!process.env.DATABASE_URL;

describe(`a crash between landing and standardization on ${postgres ? 'PostgreSQL' : 'PGlite'}`, () => {
  let db: Db;
  let where: string[];
  let dir: string | undefined;

  before(async () => {
    if (postgres) {
      // The worker process must open the landing store with the same key ring (the data directory's, as on a node).
      dir = mkdtempSync(join(tmpdir(), 'hb-crash-'));
      db = await openTestDb({ keys: loadOrCreateKeyRing(dir) });
      const { rows } = await db.query<{ s: string }>('SELECT current_schema() AS s');
      where = [dir, rows[0].s];
    } else {
      // The embedded engine admits one process, and this test needs a second one that dies: a file-backed database
      // (openTestDb is in memory) that the dead worker's successor opens again.
      dir = mkdtempSync(join(tmpdir(), 'hb-crash-'));
      db = await openDb({ dataDir: dir });
      where = [dir];
    }
    await db.exec('CREATE TABLE test_out (source text NOT NULL, body jsonb NOT NULL)');
  });
  after(async () => {
    await db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing and doubles nothing: a killed worker leaves its batch landed, the next run finishes it once', async () => {
    const units = ['A', 'B', 'C', 'D'].map((t) => ({
      institutionId: 'crash', channel: 'csv' as const, contentType: 'text/csv', encoding: 'utf-8', content: Buffer.from(`h\n${t}`),
    }));
    await landUnits(db, units);
    if (!postgres) await db.close(); // the single-process engine: hand the database to the worker process
    const dead = spawnSync(process.execPath, [child, ...where], { env: process.env, encoding: 'utf8' });
    assert.equal(dead.status, 137, `the worker should die mid-batch: ${dead.stderr}`);
    // Restart. (On PostgreSQL the server outlives the dead worker and has rolled its transaction back.)
    if (!postgres) db = await openDb({ dataDir: dir });
    const out = await db.query<{ n: number }>('SELECT count(*) AS n FROM test_out');
    assert.equal(out.rows[0].n, 0, "the dead worker's uncommitted output is gone");
    const [before] = await feedCounts(db, { institution: 'crash' });
    assert.deepEqual([before.received, before.pending], [4, 4], 'all four units are still waiting');

    const write = async (tx: Queryable, resources: Resource[]) => {
      for (const r of resources) await tx.query('INSERT INTO test_out (source, body) VALUES ($1, $2)', [r.meta?.source, r]);
    };
    const options = {
      standardize: async (u: { id: number; content: Buffer }) => ({ resources: [{ resourceType: 'Basic', code: { text: u.content.toString() }, meta: { source: landingSource(u.id) } } as Resource] }),
      writeResources: write,
    };
    // PostgreSQL releases the dead backend's row locks once it notices the closed connection; until then
    // SKIP LOCKED passes those units over — the restarted worker's loop simply takes them on its next round.
    for (let round = 0; round < 100; round++) {
      await drainQueue(db, options);
      if ((await feedCounts(db, { institution: 'crash' }))[0].pending === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { rows } = await db.query<{ source: string; n: number }>('SELECT source, count(*) AS n FROM test_out GROUP BY 1 ORDER BY 1');
    assert.equal(rows.length, 4);
    assert.ok(rows.every((r) => r.n === 1));
    const [done] = await feedCounts(db, { institution: 'crash' });
    assert.deepEqual([done.received, done.standardized, done.pending, done.duplicates], [4, 4, 0, 0]);
  });
});
