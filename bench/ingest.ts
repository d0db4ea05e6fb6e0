/**
 * `npm run bench -- ingest [--rows N] [--messages M] [--connections C] [--bundles B] [--bundle-size S]`
 *
 * Issue 4's ingestion benchmark, per channel, through the real channel code on the configured database (PostgreSQL
 * when DATABASE_URL is set — the target platform for the figures; PGlite otherwise):
 *   CSV   core-table rows streamed through `ingestCsv` (as POST /ingest/csv does)            target ≥ 20,000 rows/s
 *   HL7   ADT/ORU messages over real MLLP sockets, C senders each waiting for its ACK          target ≥ 2,000 msg/s
 *   FHIR  transaction Bundles through the HTTP app (landing + FHIR store), in-process inject    target ≥ 5,000 res/s
 * Each is compared with a raw COPY of the rows it produced into an index-free table (the physical limit), and the
 * CSV run is repeated at 1/4 size to show that memory does not grow with file size.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import pino from 'pino';
import { addHl7Sender, createIngest, ingestCsv, landFhirBundle } from '../src/ingest/index.ts';
import { openDb, type Db } from '../src/store/index.ts';

function arg(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

// A collector we can call: live memory (after GC) is what "flat with file size" is about; RSS includes garbage not yet
// collected and the allocator's slack.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** The largest live heap + buffers (sampled after a GC every second) while `fn` runs. */
async function measured<T>(fn: () => Promise<T>): Promise<{ result: T; secs: number; peakMb: number }> {
  const live = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  let peak = live();
  const timer = setInterval(() => (peak = Math.max(peak, live())), 1000);
  const t0 = performance.now();
  try {
    const result = await fn();
    return { result, secs: (performance.now() - t0) / 1000, peakMb: peak / 1048576 };
  } finally {
    clearInterval(timer);
  }
}

/** COPY the landed units of `institution` again into an index-free table: the physical limit for those rows. */
async function copyBaseline(db: Db, institution: string): Promise<{ rows: number; secs: number }> {
  await db.exec('DROP TABLE IF EXISTS copy_baseline; CREATE TABLE copy_baseline (institution_id text, channel text, content_type text, encoding text, content_hash bytea, content bytea, meta jsonb, status text)');
  let secs = 0;
  let rows = 0;
  for (let after = 0; ; ) {
    const { rows: chunk } = await db.query<{ id: number; institution_id: string; channel: string; content_type: string; encoding: string; h: string; c: string; meta: unknown; status: string }>(
      `SELECT id, institution_id, channel, content_type, encoding, encode(content_hash, 'hex') AS h, encode(content, 'hex') AS c, meta, status
         FROM landed_unit WHERE institution_id = $1 AND id > $2 ORDER BY id LIMIT 50000`,
      [institution, after],
    );
    if (!chunk.length) break;
    after = chunk[chunk.length - 1].id;
    const t0 = performance.now();
    rows += await db.copyFrom('copy_baseline', ['institution_id', 'channel', 'content_type', 'encoding', 'content_hash', 'content', 'meta', 'status'],
      chunk.map((r) => [r.institution_id, r.channel, r.content_type, r.encoding, '\\x' + r.h, '\\x' + r.c, r.meta, r.status]));
    secs += (performance.now() - t0) / 1000;
  }
  return { rows, secs };
}

async function* csvRows(n: number, seed: string) {
  yield Buffer.from('机构代码,记录编号,患者编号,姓名,性别代码,出生日期,证件号码,联系电话,现住址,更新时间\n');
  let lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(`H001,${seed}-${i},M${i},张${i % 997}明,${1 + (i % 2)},19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10},330523195003071${String(i % 1000).padStart(3, '0')},138${String(i).padStart(8, '0')},浙江省湖州市安吉县递铺街道${i % 300}号,2024-03-01 08:30:00`);
    if (lines.length === 2000) {
      yield Buffer.from(lines.join('\n') + '\n');
      lines = [];
    }
  }
  if (lines.length) yield Buffer.from(lines.join('\n') + '\n');
}

async function benchCsv(db: Db, rows: number): Promise<void> {
  const ingest = createIngest(db, { runWorker: false });
  for (const n of [Math.round(rows / 4), rows]) {
    const inst = `bench-csv-${n}`;
    const { result, secs, peakMb } = await measured(() => ingestCsv(csvRows(n, inst), { institutionId: inst, table: 'patient', land: ingest.landBulk, concurrency: ingest.bulkConcurrency }));
    const base = await copyBaseline(db, inst);
    console.log(`CSV   ${fmt(result.received)} rows in ${secs.toFixed(2)} s = ${fmt(result.received / secs)} rows/s · raw COPY ${fmt(base.rows / base.secs)} rows/s · ratio ${((result.received / secs) / (base.rows / base.secs)).toFixed(2)} · peak live memory ${peakMb.toFixed(0)} MB`);
  }
  await ingest.close();
}

function adt(i: number, conn: number): Buffer {
  return Buffer.from(
    `\x0bMSH|^~\\&|BENCH|FAC|HB|REGION|20240301083000||ORU^R01^ORU_R01|C${conn}-${i}|P|2.5.1\rPID|1||M${i}^^^FAC^MR||李^四||19500307|M\r` +
      `OBR|1||L${conn}-${i}|GLU\rOBX|1|NM|GLU^葡萄糖^L||${(4 + (i % 50) / 10).toFixed(1)}|mmol/L|3.9-6.1|N|||F\x1c\r`,
  );
}

async function benchMllp(db: Db, messages: number, connections: number): Promise<void> {
  await addHl7Sender(db, { institutionId: 'bench-hl7', msh3: 'BENCH', msh4: 'FAC' });
  const ingest = createIngest(db, { runWorker: false });
  const server = await ingest.startMllp(0, '127.0.0.1');
  const per = Math.ceil(messages / connections);
  const codes: Record<string, number> = {};
  const sender = (conn: number) =>
    new Promise<void>((resolve, reject) => {
      const s = net.connect(server.port, '127.0.0.1');
      s.setNoDelay(true);
      let i = 0;
      let buf = Buffer.alloc(0);
      s.on('connect', () => s.write(adt(i, conn)));
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        let end;
        while ((end = buf.indexOf(0x1c)) >= 0) {
          const code = /MSA\|(\w\w)/.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? '?';
          codes[code] = (codes[code] ?? 0) + 1;
          buf = buf.subarray(end + 2);
          if (++i >= per) return void s.end(resolve);
          s.write(adt(i, conn)); // like most real senders: the next message only after the ACK
        }
      });
      s.on('error', reject);
    });
  const { secs, peakMb } = await measured(() => Promise.all(Array.from({ length: connections }, (_, c) => sender(c))));
  await server.close();
  await ingest.close();
  const acked = Object.values(codes).reduce((a, b) => a + b, 0);
  const base = await copyBaseline(db, 'bench-hl7');
  console.log(`HL7   ${fmt(acked)} messages over ${connections} MLLP connections in ${secs.toFixed(2)} s = ${fmt(acked / secs)} msg/s acknowledged (${JSON.stringify(codes)}) · raw COPY ${fmt(base.rows / base.secs)} rows/s · ratio ${((acked / secs) / (base.rows / base.secs)).toFixed(3)} · peak live memory ${peakMb.toFixed(0)} MB`);
}

function bundle(b: number, size: number) {
  const entry = [];
  for (let k = 0; k < size; k += 2) {
    const pid = `urn:uuid:00000000-0000-4000-8000-${String(b * size + k).padStart(12, '0')}`;
    entry.push({ fullUrl: pid, resource: { resourceType: 'Patient', identifier: [{ system: 'urn:bench:mrn', value: `B${b}-${k}` }], name: [{ text: `王${k}` }], gender: 'male', birthDate: '1950-03-07' }, request: { method: 'POST', url: 'Patient' } });
    entry.push({ resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '14749-6' }] }, subject: { reference: pid }, effectiveDateTime: '2024-03-01T08:30:00+08:00', valueQuantity: { value: 5.6, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' } }, request: { method: 'POST', url: 'Observation' } });
  }
  return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry });
}

async function benchFhir(db: Db, schema: string | undefined, bundles: number, size: number): Promise<void> {
  const { openTestPlatform } = await import('../src/api/testing.ts');
  void schema;
  const p = await openTestPlatform({ db, logger: pino({ level: 'silent' }) });
  try {
    const inst = await p.addInstitution('bench-fhir');
    const bodies = Array.from({ length: bundles }, (_, b) => bundle(b, size));
    const statuses: Record<number, number> = {};
    const { secs, peakMb } = await measured(async () => {
      for (const payload of bodies) {
        const res = await p.app.inject({ method: 'POST', url: '/fhir', headers: { authorization: `Bearer ${inst.token}`, 'content-type': 'application/fhir+json' }, payload });
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      }
    });
    const resources = bundles * size;
    // The landing step alone (what this module adds in front of the FHIR store), on fresh copies of the Bundles.
    const fresh = bodies.map((b) => b.replace('"transaction"', '"batch"'));
    const landOnly = await measured(async () => {
      for (const b of fresh) await landFhirBundle(db, inst.id, b, JSON.parse(b));
    });
    console.log(`FHIR  landing step only: ${fmt(resources / landOnly.secs)} resources/s (${fmt(bundles / landOnly.secs)} Bundles/s)`);
    await db.exec('DROP TABLE IF EXISTS copy_fhir; CREATE TABLE copy_fhir (id text, resource_type text, content jsonb)');
    const rows = bodies.flatMap((b) => (JSON.parse(b).entry as Array<{ resource: { resourceType: string } }>).map((e, i) => [String(i), e.resource.resourceType, e.resource]));
    const t0 = performance.now();
    await db.copyFrom('copy_fhir', ['id', 'resource_type', 'content'], rows);
    const copyRate = rows.length / ((performance.now() - t0) / 1000);
    console.log(`FHIR  ${fmt(resources)} resources in ${bundles} transaction Bundles in ${secs.toFixed(2)} s = ${fmt(resources / secs)} resources/s (HTTP ${JSON.stringify(statuses)}) · raw COPY ${fmt(copyRate)} rows/s · ratio ${((resources / secs) / copyRate).toFixed(3)} · peak live memory ${peakMb.toFixed(0)} MB`);
  } finally {
    await p.close();
  }
}

export async function run(args: string[]): Promise<void> {
  const url = process.env.DATABASE_URL;
  const schema = url ? 'bench_ingest_' + randomBytes(4).toString('hex') : undefined;
  const dir = url ? undefined : mkdtempSync(join(tmpdir(), 'hb-bench-'));
  const db = await openDb(url ? { databaseUrl: url, schema } : { dataDir: dir });
  console.log(`ingest benchmark on ${url ? 'PostgreSQL' : 'PGlite (set DATABASE_URL for the reference figures)'}`);
  try {
    const only = args.find((a) => ['csv', 'hl7', 'fhir'].includes(a));
    if (!only || only === 'csv') await benchCsv(db, arg(args, 'rows', 200_000));
    if (!only || only === 'hl7') await benchMllp(db, arg(args, 'messages', 20_000), arg(args, 'connections', 16));
    if (!only || only === 'fhir') await benchFhir(db, schema, arg(args, 'bundles', 50), arg(args, 'bundle-size', 100));
  } finally {
    if (schema) await db.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
