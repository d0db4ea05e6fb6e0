import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { openTestDb } from '../../test/support/db.ts';
import type { Db, Queryable } from '../store/index.ts';
import { feedCounts } from './counts.ts';
import { landUnits } from './landing.ts';
import { reprocess } from './quarantine.ts';
import { landingSource, type LandedUnit, type Standardizer, type UnitInput } from './types.ts';
import { drainQueue, IngestWorker, standardizeBatch, type BatchWriter } from './worker.ts';

const unit = (inst: string, text: string): UnitInput => ({
  institutionId: inst, channel: 'hl7-http', contentType: 'x-application/hl7-v2+er7', encoding: 'utf-8', content: Buffer.from(text),
});

// One Basic resource per unit, its text the unit's content; "BAD…" is quarantined.
const basic: Standardizer = async (u) =>
  u.content.toString().startsWith('BAD')
    ? { quarantine: [{ code: 'bad-prefix' }] }
    : { resources: [{ resourceType: 'Basic', code: { text: u.content.toString() }, meta: { source: landingSource(u.id) } } as Resource] };

describe(`the standardization worker's set-based batch on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let db: Db;
  before(async () => {
    db = await openTestDb();
    await db.exec('CREATE TABLE test_out (source text NOT NULL, body text NOT NULL)');
  });
  after(() => db.close());

  const insertAll: BatchWriter = async (tx, units) => {
    const rs = units.flatMap((u) => u.resources);
    await tx.query('INSERT INTO test_out (source, body) SELECT * FROM unnest($1::text[], $2::text[])', [
      rs.map((r) => r.meta!.source!), rs.map((r) => (r as { code: { text: string } }).code.text),
    ]);
  };
  const statuses = async (inst: string) =>
    (await db.query<{ status: string; attempts: number }>('SELECT status, attempts FROM landed_unit WHERE institution_id = $1 ORDER BY id', [inst])).rows;

  it('writes the resources of a whole batch in one call and moves every status, quarantine included', async () => {
    await landUnits(db, ['A', 'B', 'BAD-C', 'D', 'E'].map((t) => unit('batch-inst', t)));
    const calls: number[] = [];
    const n = await standardizeBatch(db, { standardize: basic, writeBatch: async (tx, units) => (calls.push(units.length), insertAll(tx, units)) });
    assert.equal(n, 5);
    assert.deepEqual(calls, [4], 'one write for the four units that standardized');
    assert.deepEqual((await statuses('batch-inst')).map((r) => r.status), ['standardized', 'standardized', 'quarantined', 'standardized', 'standardized']);
    const [c] = await feedCounts(db, { institution: 'batch-inst' });
    assert.deepEqual([c.received, c.standardized, c.quarantined, c.pending], [5, 4, 1, 0]);
  });

  it('falls back to one unit at a time when the batch write fails: the poisoned unit is retried, its neighbours commit once', async () => {
    await landUnits(db, ['P1', 'POISON', 'P3'].map((t) => unit('poison-inst', t)));
    const picky: BatchWriter = async (tx, units) => {
      if (units.some((u) => u.unit.content.toString() === 'POISON')) throw new Error('refused by the store');
      await insertAll(tx, units);
    };
    await drainQueue(db, { standardize: basic, writeBatch: picky, maxAttempts: 2 });
    assert.deepEqual(await statuses('poison-inst'), [
      { status: 'standardized', attempts: 1 }, { status: 'quarantined', attempts: 2 }, { status: 'standardized', attempts: 1 },
    ]);
    const { rows } = await db.query<{ body: string; n: number }>(
      `SELECT o.body, count(*)::int AS n FROM test_out o JOIN landed_unit u ON o.source = 'urn:healthbrain:landing:' || u.id
        WHERE u.institution_id = 'poison-inst' GROUP BY 1 ORDER BY 1`,
    );
    assert.deepEqual(rows, [{ body: 'P1', n: 1 }, { body: 'P3', n: 1 }], 'the rolled-back first attempt left nothing behind');
  });

  it('lets a later unit of the same batch requeue an earlier quarantined one, and the requeue wins', async () => {
    // A tiny hold/release protocol like the standardizer's: "WAIT" is quarantined and held; "RELEASE" requeues it.
    const holding: Standardizer = async (u: LandedUnit, tx: Queryable) => {
      const text = u.content.toString();
      if (text === 'WAIT' && !(await tx.query(`SELECT 1 FROM test_out WHERE body = 'released'`)).rows.length) {
        await tx.query(`INSERT INTO std_held (institution_id, hold_key, unit_id) VALUES ($1, 'k', $2)`, [u.institutionId, u.id]);
        return { quarantine: [{ code: 'waiting' }] };
      }
      if (text === 'RELEASE') {
        await tx.query(`INSERT INTO test_out (source, body) VALUES ('-', 'released')`);
        await tx.query(
          `WITH held AS (DELETE FROM std_held WHERE institution_id = $1 AND hold_key = 'k' RETURNING unit_id)
           UPDATE landed_unit SET status = 'landed', attempts = 0, reasons = NULL WHERE id IN (SELECT unit_id FROM held) AND status = 'quarantined'`,
          [u.institutionId],
        );
      }
      return basic(u, tx);
    };
    await landUnits(db, ['WAIT', 'RELEASE'].map((t) => unit('hold-inst', t)));
    assert.equal(await standardizeBatch(db, { standardize: holding, writeBatch: insertAll }), 2);
    assert.deepEqual((await statuses('hold-inst')).map((r) => r.status), ['landed', 'standardized'], 'requeued by its neighbour');
    await drainQueue(db, { standardize: holding, writeBatch: insertAll });
    assert.deepEqual((await statuses('hold-inst')).map((r) => r.status), ['standardized', 'standardized']);
  });

  it('with a batch-aware standardizer, writes every status of a batch in one statement and leaves a unit it reports released landed', async () => {
    // "WAIT" is quarantined; "RELEASE" (later in the batch) releases it — reported by endBatch, as the standardizer does.
    const releasedIn = new WeakMap<Queryable, number[]>();
    const waiting = new WeakMap<Queryable, number>();
    const aware = Object.assign(async (u: LandedUnit, tx: Queryable) => {
      const text = u.content.toString();
      if (text === 'WAIT') waiting.set(tx, u.id);
      if (text === 'WAIT' || text === 'BAD') return { quarantine: [{ code: text === 'WAIT' ? 'waiting' : 'bad' }] };
      if (text === 'RELEASE' && waiting.has(tx)) releasedIn.set(tx, [waiting.get(tx)!]);
      return basic(u, tx);
    }, {
      beginBatch: (tx: Queryable) => void releasedIn.set(tx, []),
      endBatch: async (tx: Queryable) => ({ released: releasedIn.get(tx) }),
    });
    const updates: string[] = [];
    const spied: Db = Object.assign(Object.create(db) as Db, {
      transaction: <T>(fn: (tx: Queryable) => Promise<T>) => db.transaction((tx) => fn({
        query: (sql: string, params?: unknown[]) => (/^\s*UPDATE landed_unit/.test(sql) && updates.push(sql), tx.query(sql, params)),
        exec: (sql: string) => tx.exec(sql),
        crypto: tx.crypto,
      })),
    });
    await landUnits(db, ['WAIT', 'BAD', 'RELEASE', 'OK'].map((t) => unit('aware-inst', t)));
    assert.equal(await standardizeBatch(spied, { standardize: aware, writeBatch: insertAll }), 4);
    assert.equal(updates.length, 1, 'one status statement for the batch');
    const rows = (await db.query<{ status: string; attempts: number; reasons: unknown; processed_at: Date | null }>(
      'SELECT status, attempts, reasons, processed_at FROM landed_unit WHERE institution_id = $1 ORDER BY id', ['aware-inst'])).rows;
    assert.deepEqual(rows.map((r) => [r.status, r.attempts, r.reasons]), [
      ['landed', 0, null], ['quarantined', 1, [{ code: 'bad' }]], ['standardized', 1, null], ['standardized', 1, null],
    ]);
    assert.ok(rows[0].processed_at, 'processed before: taken again at once');
    await drainQueue(db, { standardize: aware, writeBatch: insertAll });
    assert.deepEqual((await statuses('aware-inst')).map((r) => r.status), ['quarantined', 'quarantined', 'standardized', 'standardized'], 'alone in its batch, nothing releases it');
  });

  it('leaves a FHIR Bundle never processed to its request for two minutes, but takes one requeued by reprocess at once', async () => {
    const [r] = await landUnits(db, [{ institutionId: 'fhir-inst', channel: 'fhir', contentType: 'application/fhir+json', encoding: 'utf-8', content: Buffer.from('{}') }]);
    const seen: number[] = [];
    const std: Standardizer = async (u, tx) => {
      if (u.institutionId === 'fhir-inst') seen.push(u.id);
      return basic(u, tx);
    };
    await drainQueue(db, { standardize: std, writeBatch: insertAll });
    assert.deepEqual(seen, [], 'its request may still be running');
    // The request settled it in quarantine (as settleFhirBundle does); an operator puts it back on the queue.
    await db.query(`UPDATE landed_unit SET status = 'quarantined', reasons = '[{"code":"x"}]', attempts = attempts + 1, processed_at = now() WHERE id = $1`, [r.id]);
    assert.equal(await reprocess(db, { institution: 'fhir-inst' }), 1);
    await drainQueue(db, { standardize: std, writeBatch: insertAll });
    assert.deepEqual(seen, [r.id]);
    assert.deepEqual((await statuses('fhir-inst')).map((x) => x.status), ['standardized']);
  });

  it('caps a batch by content size: no more units once the claimed ones reach batchBytes, but always at least one', async () => {
    await drainQueue(db, { standardize: basic, writeBatch: insertAll }); // the batches below are these units alone
    const big = (tag: string) => unit('bytes-inst', tag + '.'.repeat(999)); // 1,000 bytes each
    await landUnits(db, [big('A'), big('B'), big('C'), big('D'), big('E')]);
    const sizes: number[] = [];
    const opts = { standardize: basic, writeBatch: async (tx: Queryable, units: Parameters<BatchWriter>[1]) => (sizes.push(units.length), insertAll(tx, units)), batchBytes: 2500 };
    assert.equal(await standardizeBatch(db, opts), 3, '1,000 + 1,000 < 2,500: a third unit, then the budget is reached');
    assert.equal(await standardizeBatch(db, opts), 2);
    await landUnits(db, [unit('bytes-inst', 'X'.repeat(5000))]);
    assert.equal(await standardizeBatch(db, { ...opts, batchBytes: 100 }), 1, 'a unit larger than the budget is claimed alone');
    assert.deepEqual(sizes, [3, 2, 1]);
    assert.deepEqual((await statuses('bytes-inst')).map((r) => r.status), Array(6).fill('standardized'));
  });

  it('leaves the units a byte budget left out unlocked: another loop claims them while the first batch is still open', { skip: !process.env.DATABASE_URL && 'PostgreSQL only: the embedded engine runs one transaction at a time' }, async () => {
    await drainQueue(db, { standardize: basic, writeBatch: insertAll });
    await landUnits(db, ['A', 'B', 'C'].map((t) => unit('budget-inst', t + '.'.repeat(999))));
    let open!: () => void;
    let arrive!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const arrived = new Promise<void>((r) => (arrive = r));
    const pausing: Standardizer = async (u, tx) => (arrive(), await gate, basic(u, tx));
    const first = standardizeBatch(db, { standardize: pausing, writeBatch: insertAll, batchBytes: 1000 });
    await arrived; // the first batch holds unit A, its transaction open
    assert.equal(await standardizeBatch(db, { standardize: basic, writeBatch: insertAll }), 2, 'B and C were not locked by the first claim');
    open();
    assert.equal(await first, 1);
    assert.deepEqual((await statuses('budget-inst')).map((r) => r.status), ['standardized', 'standardized', 'standardized']);
  });

  it(`runs ${process.env.DATABASE_URL ? 'several loops at once on PostgreSQL' : 'one loop on the embedded engine, whatever is asked'}`, async () => {
    await drainQueue(db, { standardize: basic, writeBatch: insertAll });
    await landUnits(db, Array.from({ length: 40 }, (_, i) => unit('loops-inst', `L-${i}`)));
    // A batch's first unit waits (bounded) until another transaction is inside the standardizer too: two loops overlap.
    const inside = new Set<Queryable>();
    const seen = new WeakSet<Queryable>();
    let most = 0;
    const overlapping: Standardizer = async (u, tx) => {
      inside.add(tx);
      most = Math.max(most, inside.size);
      if (!seen.has(tx)) for (let i = 0; i < 100 && most < 2; i++) await new Promise((r) => setTimeout(r, 5));
      seen.add(tx);
      const r = await basic(u, tx);
      inside.delete(tx);
      return r;
    };
    const worker = new IngestWorker(db, { standardize: overlapping, writeBatch: insertAll, batchSize: 10, loops: 2, idleMs: 20 });
    assert.equal(worker.loops, process.env.DATABASE_URL ? 2 : 1);
    worker.start();
    while ((await statuses('loops-inst')).some((r) => r.status === 'landed')) await new Promise((r) => setTimeout(r, 20));
    await worker.stop();
    assert.equal(most, worker.loops, 'as many batches open at once as loops');
    assert.deepEqual(new Set((await statuses('loops-inst')).map((r) => r.status)), new Set(['standardized']));
  });
});

describe('the worker on the embedded engine', () => {
  it('lets a request of many statements run between two batches instead of one statement per batch', { skip: !!process.env.DATABASE_URL && 'PGlite only: PostgreSQL serves requests on other connections' }, async () => {
    const db = await openTestDb();
    try {
      await landUnits(db, Array.from({ length: 400 }, (_, i) => unit('busy-inst', `U-${i}`)));
      let standardized = 0;
      const counting: Standardizer = async (u, tx) => (standardized++, basic(u, tx));
      // A long step-aside (the platform's is 25 ms) so that the request's statements fit into it even on a machine
      // busy with other work: what is tested is that the worker steps aside, not how fast the request runs.
      const worker = new IngestWorker(db, { standardize: counting, writeResources: async () => undefined, batchSize: 20, yieldMs: 250 });
      worker.start();
      while (standardized < 40) await new Promise((r) => setTimeout(r, 1));
      // A request: ten statements one after the other, like an authenticated FHIR search.
      const before = standardized;
      for (let i = 0; i < 10; i++) await db.query('SELECT 1');
      const batchesMeanwhile = Math.ceil((standardized - before) / 20);
      await worker.stop();
      assert.ok(batchesMeanwhile <= 3, `the worker ran ${batchesMeanwhile} batches while the request's ten statements waited`);
    } finally {
      await db.close();
    }
  });
});
