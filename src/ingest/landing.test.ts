import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import iconv from 'iconv-lite';
import type { Resource } from '@medplum/fhirtypes';
import { openTestDb } from '../../test/support/db.ts';
import type { Db, Queryable } from '../store/index.ts';
import { feedCounts, feedSummaries } from './counts.ts';
import { contentHash, LandingBatcher, landUnits } from './landing.ts';
import { createHash } from 'node:crypto';
import { FieldCrypto, generateKeyRing } from '../crypto/index.ts';
import { listQuarantine, quarantineSummary, reprocess } from './quarantine.ts';
import { landingSource, type Standardizer, type UnitInput } from './types.ts';
import { drainQueue, standardizeBatch } from './worker.ts';

const unit = (inst: string, text: string, encoding = 'utf-8'): UnitInput => ({
  institutionId: inst,
  channel: 'hl7-http',
  contentType: 'x-application/hl7-v2+er7',
  encoding,
  content: encoding === 'gbk' ? iconv.encode(text, 'gbk') : Buffer.from(text),
});

// A small real standardizer: a unit whose text starts with "BAD" is quarantined, others become one Basic resource.
const tiny: Standardizer = async (u) =>
  u.content.toString('latin1').startsWith('BAD')
    ? { quarantine: [{ code: 'bad-prefix', detail: 'starts with BAD' }] }
    : { resources: [{ resourceType: 'Basic', code: { text: u.contentHash }, meta: { source: landingSource(u.id) } } as Resource] };

async function writer(tx: Queryable, resources: Resource[]) {
  for (const r of resources) await tx.query('INSERT INTO test_out (source, body) VALUES ($1, $2)', [r.meta?.source, r]);
}

function reconciles(c: { received: number; standardized: number; quarantined: number; duplicates: number; pending: number }) {
  assert.equal(c.received, c.standardized + c.quarantined + c.duplicates + c.pending, JSON.stringify(c));
}

describe(`landing store and work queue on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let db: Db;
  before(async () => {
    db = await openTestDb();
    await db.exec('CREATE TABLE test_out (source text NOT NULL, body jsonb NOT NULL)');
  });
  after(() => db.close());

  it('stores the verbatim bytes sealed: a GBK unit unseals byte for byte as GBK, and nothing of it is in clear', async () => {
    const input = unit('gbk-inst', 'PID|||张三^^^^MR', 'gbk');
    const [r] = await landUnits(db, [input]);
    const { rows } = await db.query<{ content: Uint8Array; encoding: string }>('SELECT content, encoding FROM landed_unit WHERE id = $1', [r.id]);
    // Issue 10 (密评): the stored bytes are SM4-sealed; the verbatim bytes are what unsealing gives back.
    assert.ok(!Buffer.from(rows[0].content).includes(Buffer.from(input.content)));
    assert.deepEqual(db.crypto.unseal(rows[0].content), Buffer.from(input.content));
    assert.equal(rows[0].encoding, 'gbk');
    assert.equal(iconv.decode(db.crypto.unseal(rows[0].content), 'gbk'), 'PID|||张三^^^^MR');
  });

  it('keys the idempotency hash: the stored hash is not the SHA-256 of the bytes, and another key ring gives another', async () => {
    const [r] = await landUnits(db, [unit('hash-inst', 'MSH|^~\\&|A')]);
    const { rows } = await db.query<{ h: string }>(`SELECT encode(content_hash, 'hex') AS h FROM landed_unit WHERE id = $1`, [r.id]);
    assert.notEqual(rows[0].h, createHash('sha256').update('MSH|^~\\&|A').digest('hex'));
    assert.equal(rows[0].h, contentHash(db.crypto, Buffer.from('MSH|^~\\&|A')));
    assert.notEqual(rows[0].h, contentHash(new FieldCrypto(generateKeyRing()), Buffer.from('MSH|^~\\&|A')));
  });

  it('recognises re-sent content: stored once, counted as received and duplicate, same unit id', async () => {
    const [a] = await landUnits(db, [unit('dup-inst', 'MSG-1')]);
    const [b, c, d] = await landUnits(db, [unit('dup-inst', 'MSG-1'), unit('dup-inst', 'MSG-2'), unit('dup-inst', 'MSG-2')]);
    assert.deepEqual([a.duplicate, b.duplicate, c.duplicate, d.duplicate], [false, true, false, true]);
    assert.equal(b.id, a.id);
    assert.equal(d.id, c.id);
    const { rows } = await db.query<{ n: number }>(`SELECT count(*) AS n FROM landed_unit WHERE institution_id = 'dup-inst'`);
    assert.equal(rows[0].n, 2);
    const [count] = await feedCounts(db, { institution: 'dup-inst' });
    assert.equal(count.received, 4);
    assert.equal(count.duplicates, 2);
    assert.equal(count.pending, 2);
    reconciles(count);
  });

  it('counts a unit holding several records (a FHIR Bundle) as that many records, received and duplicate alike', async () => {
    const bundle = { ...unit('rec-inst', '{"resourceType":"Bundle"}'), channel: 'fhir' as const, records: 3 };
    await landUnits(db, [bundle]);
    await landUnits(db, [bundle]);
    const [c] = await feedCounts(db, { institution: 'rec-inst' });
    assert.deepEqual([c.received, c.duplicates, c.pending], [6, 3, 3]);
  });

  it('lands a large batch through COPY staging with exact per-row duplicate detection', async () => {
    const units = Array.from({ length: 600 }, (_, i) => unit('big-inst', `ROW-${i % 500}`));
    const results = await landUnits(db, units);
    assert.equal(results.filter((r) => r.duplicate).length, 100);
    assert.equal(new Set(results.map((r) => r.id)).size, 500);
    const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM landing_stage');
    assert.equal(rows[0].n, 0);
    const [count] = await feedCounts(db, { institution: 'big-inst' });
    assert.deepEqual([count.received, count.duplicates, count.pending], [600, 100, 500]);
  });

  it("counts a unit on the region's day (China, UTC+8): received 2026-11-22T17:00:00Z counts on 2026-11-23", async () => {
    const { rows } = await db.query<{ late: string; early: string }>(
      `SELECT to_char(ingest_day('2026-11-22T17:00:00Z'), 'YYYY-MM-DD') AS late, to_char(ingest_day('2026-11-22T15:59:59Z'), 'YYYY-MM-DD') AS early`,
    );
    assert.deepEqual(rows[0], { late: '2026-11-23', early: '2026-11-22' });
    // The counter (written by the landing statement) and the units (grouped by the view) agree on that day.
    const [r] = await landUnits(db, [unit('day-inst', 'NIGHT-1')]);
    await db.query(`UPDATE landed_unit SET received_at = '2026-11-22T17:00:00Z' WHERE id = $1`, [r.id]);
    await db.query(`UPDATE feed_day SET day = ingest_day('2026-11-22T17:00:00Z') WHERE institution_id = 'day-inst'`);
    const [c] = await feedCounts(db, { institution: 'day-inst' });
    assert.deepEqual([c.day, c.received, c.pending], ['2026-11-23', 1, 1]);
    // And a unit landed now is counted on today's date in Beijing.
    const [now] = await landUnits(db, [unit('today-inst', 'NOW-1')]);
    const { rows: t } = await db.query<{ received_at: Date }>('SELECT received_at FROM landed_unit WHERE id = $1', [now.id]);
    const beijing = new Date(t[0].received_at.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
    const [today] = await feedCounts(db, { institution: 'today-inst' });
    assert.deepEqual([today.day, today.received, today.pending], [beijing, 1, 1]);
  });

  it('groups concurrent landings into shared transactions, each caller getting its own results', async () => {
    let notified = 0;
    const batcher = new LandingBatcher(db, () => notified++);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => batcher.land([unit('batch-inst', `M-${i % 30}`)])));
    assert.equal(results.flat().filter((r) => r.duplicate).length, 10);
    assert.ok(notified >= 1 && notified < 40, `transactions: ${notified}`);
  });

  it('finishes after a crash between landing and standardization: nothing lost, nothing doubled', async () => {
    await landUnits(db, [unit('crash-inst', 'OK-1'), unit('crash-inst', 'BAD-1'), unit('crash-inst', 'OK-2')]);
    // The "crash": a standardizer that dies half-way inside the worker's transaction after writing output.
    let calls = 0;
    const dying: Standardizer = async (u, tx) => {
      const r = await tiny(u, tx);
      if ('resources' in r) await writer(tx, r.resources);
      if (++calls === 2) throw Object.assign(new Error('process killed'), { fatal: true });
      return r;
    };
    // Simulate the process dying: the error escapes the whole transaction (no savepoint handling), so it rolls back.
    await assert.rejects(
      db.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: number }>(`SELECT id FROM landed_unit WHERE institution_id = 'crash-inst' FOR UPDATE`);
        for (const row of rows) {
          await dying({ id: row.id, content: Buffer.from('OK'), contentHash: 'x' } as never, tx);
        }
      }),
    );
    const before = await db.query<{ n: number }>(`SELECT count(*) AS n FROM test_out`);
    assert.equal(before.rows[0].n, 0, 'the rolled-back transaction left no output');
    // Restart: a fresh worker finishes everything that is still 'landed', in this and the other test institutions.
    await drainQueue(db, { standardize: tiny, writeResources: writer, batchSize: 2 });
    const counts = await feedCounts(db, { institution: 'crash-inst' });
    assert.deepEqual([counts[0].standardized, counts[0].quarantined, counts[0].pending], [2, 1, 0]);
    const out = await db.query<{ source: string; n: number }>(
      `SELECT o.source, count(*) AS n FROM test_out o JOIN landed_unit u ON o.source = 'urn:healthbrain:landing:' || u.id
        WHERE u.institution_id = 'crash-inst' GROUP BY 1`,
    );
    assert.equal(out.rows.length, 2);
    assert.ok(out.rows.every((r) => r.n === 1), 'each unit written exactly once');
    // Running the worker again changes nothing.
    assert.equal(await standardizeBatch(db, { standardize: tiny, writeResources: writer }), 0);
    for (const c of await feedCounts(db)) reconciles(c);
  });

  it('retries a unit whose standardizer throws, then quarantines it with standardizer-error; its neighbours commit', async () => {
    await landUnits(db, [unit('flaky-inst', 'THROW'), unit('flaky-inst', 'FINE')]);
    const flaky: Standardizer = async (u, tx) => {
      if (u.content.toString() === 'THROW') throw new Error('boom');
      return tiny(u, tx);
    };
    await drainQueue(db, { standardize: flaky, writeResources: writer, maxAttempts: 3 });
    const q = await listQuarantine(db, { institution: 'flaky-inst', reason: 'standardizer-error' });
    assert.equal(q.length, 1);
    const { rows } = await db.query<{ attempts: number; last_error: string }>('SELECT attempts, last_error FROM landed_unit WHERE id = $1', [q[0].id]);
    assert.deepEqual(rows[0], { attempts: 3, last_error: 'boom' });
    const [c] = await feedCounts(db, { institution: 'flaky-inst' });
    assert.deepEqual([c.standardized, c.quarantined], [1, 1]);
  });

  it('quarantines with standardizer-missing by default, and reprocess puts those units through again', async () => {
    await landUnits(db, [unit('late-inst', 'L-1'), unit('late-inst', 'L-2')]);
    await drainQueue(db);
    assert.deepEqual(await quarantineSummary(db, { institution: 'late-inst' }), [
      { institutionId: 'late-inst', reason: 'standardizer-missing', units: 2 },
    ]);
    assert.equal(await reprocess(db, { institution: 'late-inst', reason: 'standardizer-missing' }), 2);
    await drainQueue(db, { standardize: tiny, writeResources: writer });
    const [s] = await feedSummaries(db, 'late-inst');
    assert.deepEqual([s.received, s.standardized, s.quarantined, s.duplicates, s.pending], [2, 2, 0, 0, 0]);
    assert.ok(s.lastReceivedAt);
  });
});
