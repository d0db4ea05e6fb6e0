import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { openTestDb } from '../../test/support/db.ts';
import { migrate, type Db } from './index.ts';

describe(`store on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let db: Db;
  before(async () => {
    db = await openTestDb();
    await db.exec('CREATE TABLE kv (k text PRIMARY KEY, n bigint, d date, j jsonb, t timestamptz)');
  });
  after(() => db.close());

  it('returns int8 as number, date as text, jsonb parsed, timestamptz as Date on either engine', async () => {
    await db.query('INSERT INTO kv VALUES ($1, $2, $3, $4, $5)', ['a', 9007199254740, '2024-02-29', { x: [1] }, new Date(0)]);
    const { rows } = await db.query<{ n: number; d: string; j: unknown; t: Date }>('SELECT n, d, j, t FROM kv');
    assert.deepEqual(rows[0], { n: 9007199254740, d: '2024-02-29', j: { x: [1] }, t: new Date(0) });
  });

  it('rolls a failed transaction back whole', async () => {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query(`INSERT INTO kv (k) VALUES ('rollback-me')`);
        await tx.query(`INSERT INTO kv (k) VALUES ('a')`); // duplicate key
      }),
    );
    const { rows } = await db.query(`SELECT 1 FROM kv WHERE k = 'rollback-me'`);
    assert.equal(rows.length, 0);
  });

  it('bulk-loads with COPY, escaping tabs, newlines, backslashes and nulls', async () => {
    const n = await db.copyFrom('kv', ['k', 'n', 'j'], [
      ['tab\there', 1, { s: 'line\nbreak\\' }],
      ['null-n', null, null],
    ]);
    assert.equal(n, 2);
    const { rows } = await db.query<{ k: string; n: number | null; j: unknown }>(
      `SELECT k, n, j FROM kv WHERE k IN ('tab\there', 'null-n') ORDER BY k`,
    );
    assert.deepEqual(rows, [
      { k: 'null-n', n: null, j: null },
      { k: 'tab\there', n: 1, j: { s: 'line\nbreak\\' } },
    ]);
  });

  it('applies migrations once: running them again changes nothing', async () => {
    const again = await migrate(db);
    assert.deepEqual(again, []);
  });
});

describe('the embedded engine under a long query loop', () => {
  it('lets timers run while a loop of queries is busy', { skip: !!process.env.DATABASE_URL }, async () => {
    const db = await openTestDb();
    try {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 5);
      const until = performance.now() + 300;
      while (performance.now() < until) await db.query('SELECT 1');
      clearInterval(timer);
      assert.ok(ticks >= 5, `timer ran ${ticks} times during 300 ms of queries`);
    } finally {
      await db.close();
    }
  });
});
