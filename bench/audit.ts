/**
 * `npm run bench -- audit [--events N] [--concurrency C]`: the audit write on a read's path (src/audit/audit-log.ts),
 * on the configured engine (in-memory PGlite, or DATABASE_URL in a scratch schema): one reader recording sequentially
 * (each read waits for its event's commit: the latency a read pays), then C readers at once (group commit: events
 * per second and the latency each read pays under load). The physical limit named: one INSERT round trip
 * (`SELECT 1` on the same database) for the sequential latency.
 */
import { randomBytes } from 'node:crypto';
import { AuditLog, type AuditEntry } from '../src/audit/index.ts';
import { openDb } from '../src/store/index.ts';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const ms = (x: number) => x.toFixed(2) + ' ms';

const entry = (n: number): AuditEntry => ({
  actor: { kind: 'user', subject: `dr-${n % 50}`, role: 'clinician', institutionId: 'inst-1', scopes: [] },
  action: 'R', subtype: 'record-summary', query: 'record-summary', personId: `P${String(n % 5000).padStart(10, '0')}`,
  patientKeys: [`k${n}`, `k${n + 1}`], purpose: 'TREAT', basis: 'care-relationship', outcome: 'success', recorded: new Date(), requestId: `req-${n}`,
});

export async function run(args: string[]): Promise<void> {
  const arg = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
  const events = arg('--events', 2000);
  const concurrency = arg('--concurrency', 16);
  const url = process.env.DATABASE_URL;
  const schema = 'bench_audit_' + randomBytes(4).toString('hex');
  const db = await openDb(url ? { databaseUrl: url, schema, poolSize: 8 } : {});
  try {
    const log = new AuditLog(db);
    for (let i = 0; i < 200; i++) await log.record(entry(i)); // warm-up (plans, caches)
    const roundTrip: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t = performance.now();
      await db.query('SELECT 1');
      roundTrip.push(performance.now() - t);
    }
    const seq: number[] = [];
    for (let i = 0; i < events; i++) {
      const t = performance.now();
      await log.record(entry(i));
      seq.push(performance.now() - t);
    }
    console.log(`engine ${db.engine}; SELECT 1 round trip p50 ${ms(pct(roundTrip, 50))}`);
    console.log(`sequential record(): p50 ${ms(pct(seq, 50))}, p99 ${ms(pct(seq, 99))} (${events} events)`);
    const lat: number[] = [];
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < events) {
          const n = next++;
          const t = performance.now();
          await log.record(entry(n));
          lat.push(performance.now() - t);
        }
      }),
    );
    const secs = (performance.now() - started) / 1000;
    console.log(`${concurrency} concurrent readers: ${(events / secs).toFixed(0)} events/s, p50 ${ms(pct(lat, 50))}, p99 ${ms(pct(lat, 99))} (group commit)`);
    await log.flushed();
  } finally {
    if (url) await db.exec(`DROP SCHEMA ${schema} CASCADE`);
    await db.close();
  }
}
