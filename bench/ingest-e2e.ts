/**
 * The end-to-end part of `npm run bench -- ingest` (issue 4): a synthetic county's own feeds (src/synth: core-table CSV
 * files with patients, visits, diagnoses, prescriptions, lab results …; ADT/ORU/ORM messages) are landed through the
 * real channels, then the worker drains what landed into canonical FHIR resources in the FHIR store (the platform's
 * standardizer: terminology, UCUM, patient register, EMPI; the FHIR store's set-based write). Printed per channel:
 * the landing rate, the standardization rate, the end-to-end rate (records / (landing + standardization)), the CPU
 * per record of node and of the PostgreSQL backends, and the reconciliation received = standardized + quarantined +
 * duplicates (+ pending, which must be 0).
 */
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fhirStoreWriter, workerBatchSize, workerLoops } from '../src/api/ingest-runtime.ts';
import { addHl7Sender, createIngest, feedSummaries, ingestCsv, splitMessages, type Ingest } from '../src/ingest/index.ts';
import { empiHooks, StandardizationRuntime } from '../src/standardize/index.ts';
import type { Db } from '../src/store/index.ts';
import { cpuSeconds } from './store.ts';
import { generateCounty } from '../src/synth/index.ts';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface CountyInstitution {
  code: string;
  format: 'fhir' | 'hl7v2' | 'csv';
  feedDir: string;
  hl7?: { sendingApplication: string; sendingFacility: string };
}

export interface BenchCounty {
  dir: string;
  institutions: CountyInstitution[];
  close(): void;
}

/** Generates a county of `persons` (fixed seed) into a scratch directory. */
export async function benchCounty(persons: number, seed: number): Promise<BenchCounty> {
  const dir = mkdtempSync(join(tmpdir(), 'hb-bench-county-'));
  await generateCounty({ persons, seed, outDir: join(dir, 'c') });
  const county = JSON.parse(readFileSync(join(dir, 'c', 'county.json'), 'utf8')) as { institutions: CountyInstitution[] };
  return { dir: join(dir, 'c'), institutions: county.institutions, close: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A worker's options exactly as the platform builds them (src/api/ingest-runtime.ts), without an HTTP app around. */
function platformWorker(db: Db, loops: number, redone: { batches: number; units: number }, batchSize?: number): Ingest {
  return createIngest(db, {
    runWorker: false, standardize: new StandardizationRuntime(empiHooks()).standardize, ...fhirStoreWriter(() => new Date()), batchSize: batchSize ?? workerBatchSize(db.engine),
    loops, onBatchRedone: (_err, units) => void ((redone.batches += 1), (redone.units += units)),
  });
}

/** Worker options of the end-to-end runs: `--workers N` loops (default: the platform's), `--worker-batch B` units. */
export interface BenchWorkers {
  loops?: number;
  batchSize?: number;
}

/** The PostgreSQL backends of this process's pool (concurrent transactions each hold one), for their CPU time. */
async function poolBackends(db: Db): Promise<number[]> {
  if (db.engine !== 'postgres') return [];
  const pids = await Promise.all(Array.from({ length: 8 }, () => db.transaction(async (tx) => (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.2)')).rows[0].pid)));
  return [...new Set(pids)];
}

/**
 * Drains the queue with the platform's worker and prints the standardization and end-to-end figures of a channel
 * whose landing took `landSecs`, counted in the records its institutions' feeds received, then their reconciliation.
 */
async function drainAndReport(db: Db, label: string, institutions: string[], landSecs: number, workers: BenchWorkers): Promise<void> {
  const redone = { batches: 0, units: 0 };
  const loops = workerLoops(db.engine, workers.loops);
  const ingest = platformWorker(db, loops, redone, workers.batchSize);
  const backends = await poolBackends(db);
  const c0 = await cpuSeconds(backends);
  const t0 = performance.now();
  const processed = await ingest.drain();
  const secs = (performance.now() - t0) / 1000;
  const c1 = await cpuSeconds(backends);
  await ingest.close();
  const sums = { received: 0, standardized: 0, quarantined: 0, duplicates: 0, pending: 0 };
  for (const s of await feedSummaries(db)) {
    if (!institutions.includes(s.institutionId)) continue;
    for (const k of Object.keys(sums) as Array<keyof typeof sums>) sums[k] += s[k];
  }
  const received = sums.received;
  const pgCpu = backends.length ? ` + PostgreSQL ${(((c1.pg - c0.pg) * 1e6) / received).toFixed(0)} µs` : '';
  console.log(
    `${label} standardized: ${fmt(received)} records (${fmt(processed)} unit runs, requeues included) in ${secs.toFixed(2)} s = ${fmt(received / secs)} records/s` +
      ` · end to end ${fmt(received / (landSecs + secs))} records/s · CPU per record: node ${(((c1.node - c0.node) * 1e6) / received).toFixed(0)} µs${pgCpu} (load average ${loadavg()[0].toFixed(1)})`,
  );
  console.log(`${label} worker: ${loops} loop(s) of ${workers.batchSize ?? workerBatchSize(db.engine)} units a batch, batches redone unit by unit: ${redone.batches} (${fmt(redone.units)} units)`);
  const ok = sums.received === sums.standardized + sums.quarantined + sums.duplicates + sums.pending && sums.pending === 0;
  console.log(
    `${label} reconciliation: received ${fmt(sums.received)} = standardized ${fmt(sums.standardized)} + quarantined ${fmt(sums.quarantined)} + duplicates ${fmt(sums.duplicates)} + pending ${sums.pending} ${ok ? '✓' : '✗ DOES NOT HOLD'}`,
  );
  if (!ok) process.exitCode = 1;
  const { rows: why } = await db.query<{ code: string; n: number }>(
    `SELECT r->>'code' AS code, count(DISTINCT u.id)::int AS n FROM landed_unit u, jsonb_array_elements(u.reasons) r
      WHERE u.status = 'quarantined' AND u.institution_id = ANY($1::text[]) GROUP BY 1 ORDER BY 2 DESC`,
    [institutions],
  );
  console.log(`${label} quarantined units by reason: ${why.map((w) => `${w.code} ${fmt(w.n)}`).join(', ')}`);
}

/** Every CSV file of the county's CSV institutions through `ingestCsv` (the patient register first, as HIS exports do; four institutions at once), then drained. */
export async function benchCsvCounty(db: Db, county: BenchCounty, workers: BenchWorkers = {}): Promise<void> {
  const ingest = createIngest(db, { runWorker: false });
  const insts = county.institutions.filter((i) => i.format === 'csv');
  let received = 0;
  const t0 = performance.now();
  // Institutions upload at the same time, four at once as `healthbrain replay` sends them; each its files in order.
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < insts.length) {
      const inst = insts[next++];
      const feed = join(county.dir, inst.feedDir);
      const files = readdirSync(feed).filter((f) => f.endsWith('.csv')).sort((a, b) => Number(b === 'patient.csv') - Number(a === 'patient.csv') || a.localeCompare(b));
      for (const f of files) {
        const r = await ingestCsv(createReadStream(join(feed, f)), { institutionId: inst.code, fileName: f, land: ingest.landBulk, concurrency: ingest.bulkConcurrency });
        received += r.received;
      }
    }
  }));
  const landSecs = (performance.now() - t0) / 1000;
  await ingest.close();
  console.log(`CSV   county feeds: ${fmt(received)} rows of ${insts.length} institutions landed in ${landSecs.toFixed(2)} s = ${fmt(received / landSecs)} rows/s`);
  await drainAndReport(db, 'CSV  ', insts.map((i) => i.code), landSecs, workers);
}

/**
 * The county's HL7 institutions send their messages.hl7 over MLLP, `connections` connections in all (a patient's
 * messages stay on one connection, in order), each waiting for the ACK before its next message.
 */
export async function benchHl7County(db: Db, county: BenchCounty, connections: number, workers: BenchWorkers = {}): Promise<void> {
  const insts = county.institutions.filter((i) => i.format === 'hl7v2' && i.hl7);
  for (const i of insts) await addHl7Sender(db, { institutionId: i.code, msh3: i.hl7!.sendingApplication, msh4: i.hl7!.sendingFacility, allowedAddresses: ['127.0.0.1'] });
  const queues: Buffer[][] = Array.from({ length: connections }, () => []);
  for (const inst of insts) {
    const feed = join(county.dir, inst.feedDir);
    for (const f of readdirSync(feed).filter((n) => n.endsWith('.hl7')).sort()) {
      for (const m of splitMessages(readFileSync(join(feed, f)))) {
        // A patient's messages stay in order on one connection (PID-3's first component picks it).
        const pid3 = /[\r\n]PID\|[^|]*\|[^|]*\|([^|^~]*)/.exec(m.toString('latin1'))?.[1] ?? '';
        queues[createHash('md5').update(inst.code + pid3).digest().readUInt32BE(0) % connections].push(Buffer.concat([Buffer.from([0x0b]), m, Buffer.from([0x1c, 0x0d])]));
      }
    }
  }
  const ingest = createIngest(db, { runWorker: false });
  const server = await ingest.startMllp(0, '127.0.0.1');
  const codes: Record<string, number> = {};
  const t0 = performance.now();
  await Promise.all(queues.map((q) => mllpSend(server.port, q, codes)));
  const landSecs = (performance.now() - t0) / 1000;
  await server.close();
  await ingest.close();
  const acked = Object.values(codes).reduce((a, b) => a + b, 0);
  console.log(`HL7   county feeds: ${fmt(acked)} messages of ${insts.length} institutions over ${connections} MLLP connections acknowledged in ${landSecs.toFixed(2)} s = ${fmt(acked / landSecs)} msg/s (${JSON.stringify(codes)})`);
  await drainAndReport(db, 'HL7  ', insts.map((i) => i.code), landSecs, workers);
}

/**
 * One MLLP sender: sends `queue` (framed messages) over one connection, each only after the ACK of the one before (as
 * most real senders do), and counts the ACK codes (MSA-1) into `codes`.
 */
export function mllpSend(port: number, queue: Buffer[], codes: Record<string, number>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (!queue.length) return resolve();
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    let i = 0;
    let buf = Buffer.alloc(0);
    s.on('connect', () => s.write(queue[0]));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      let end;
      while ((end = buf.indexOf(0x1c)) >= 0) {
        const code = /MSA\|(\w\w)/.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? '?';
        codes[code] = (codes[code] ?? 0) + 1;
        buf = buf.subarray(end + 2);
        if (++i >= queue.length) return void s.end(resolve);
        s.write(queue[i]);
      }
    });
    s.on('error', reject);
  });
}
