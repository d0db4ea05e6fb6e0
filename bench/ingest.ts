/**
 * `npm run bench -- ingest [--rows N] [--messages M] [--connections C] [--bundles B] [--bundle-size S] [--senders F] [--async] [--standard-codes]`
 *
 * Issue 4's ingestion benchmark, per channel, through the real channel code on the configured database (PostgreSQL
 * when DATABASE_URL is set — the target platform for the figures; PGlite otherwise):
 *   CSV   core-table rows streamed through `ingestCsv` (as POST /ingest/csv does)            target ≥ 20,000 rows/s
 *   HL7   ADT/ORU messages over real MLLP sockets, C senders each waiting for its ACK          target ≥ 2,000 msg/s
 *   FHIR  institution Bundles through the HTTP app (landing + standardization + EMPI + FHIR store), F senders   target ≥ 5,000 res/s
 *         (`--async`: posted with `Prefer: respond-async` — acknowledged 202 after landing, standardized by the worker)
 * Each is compared with a raw COPY of the rows it produced into an index-free table (the physical limit), and the
 * CSV run is repeated at 1/4 size to show that memory does not grow with file size.
 * `fairness [--mb M] [--senders S] [--rounds R]`: p50/p99 time to acknowledge an M MB HL7 upload over HTTP while S other
 * senders upload HL7 and CSV files (bench/ingest-fairness.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import pino from 'pino';
import { addHl7Sender, createIngest, ingestCsv, IngestWorker, landFhirBundle } from '../src/ingest/index.ts';
import { standardCodedVisit } from './fhir-standard.ts';
import { openDb, type Db } from '../src/store/index.ts';
import { benchCounty, benchCsvCounty, benchHl7County, mllpSend } from './ingest-e2e.ts';
import { benchUploadFairness } from './ingest-fairness.ts';

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
  await addHl7Sender(db, { institutionId: 'bench-hl7', msh3: 'BENCH', msh4: 'FAC', allowedAddresses: ['127.0.0.1'] });
  const ingest = createIngest(db, { runWorker: false });
  const server = await ingest.startMllp(0, '127.0.0.1');
  const per = Math.ceil(messages / connections);
  const codes: Record<string, number> = {};
  // Like most real senders: the next message only after the ACK.
  const { secs, peakMb } = await measured(() => Promise.all(Array.from({ length: connections }, (_, c) => mllpSend(server.port, Array.from({ length: per }, (_, i) => adt(i, c)), codes))));
  await server.close();
  await ingest.close();
  const acked = Object.values(codes).reduce((a, b) => a + b, 0);
  const base = await copyBaseline(db, 'bench-hl7');
  console.log(`HL7   ${fmt(acked)} messages over ${connections} MLLP connections in ${secs.toFixed(2)} s = ${fmt(acked / secs)} msg/s acknowledged (${JSON.stringify(codes)}) · raw COPY ${fmt(base.rows / base.secs)} rows/s · ratio ${((acked / secs) / (base.rows / base.secs)).toFixed(3)} · peak live memory ${peakMb.toFixed(0)} MB`);
}

// ---- FHIR phase -------------------------------------------------------------------------------------------------
// Realistic institution Bundles: one Bundle holds visits of several patients, each visit = Patient (conditional PUT
// by the local MRN, with a valid resident ID) + Encounter + lab Observations under the institution's LOCAL codes
// (mapped by the operator's ConceptMap entries, confirmed before the run) reported in units that need converting
// (mg/dL → mmol/L or µmol/L, g/dL → g/L) + vital signs in LOINC. A quarter of the visits are of returning patients
// (their Patient is an update and the EMPI refreshes a known record). So the measured path is the real work:
// landing, R4 validation, recoding, UCUM, dates, patient register, EMPI, FHIR store.
const FHIR_LABS = [
  { code: 'GLU', name: '血糖(院内)', loinc: '14749-6', unit: 'mg/dL', value: (n: number) => 72 + (n % 90) },
  { code: 'CREA', name: '肌酐(院内)', loinc: '14682-9', unit: 'mg/dL', value: (n: number) => 0.5 + (n % 12) / 10 },
  { code: 'CHOL', name: '总胆固醇(院内)', loinc: '14647-2', unit: 'mg/dL', value: (n: number) => 140 + (n % 120) },
  { code: 'HGB', name: '血红蛋白(院内)', loinc: '718-7', unit: 'g/dL', value: (n: number) => 10 + (n % 60) / 10 },
] as const;
const FHIR_VITALS = [['8480-6', 'mm[Hg]', 100, 60], ['8462-4', 'mm[Hg]', 60, 40], ['8867-4', '/min', 55, 50], ['29463-7', 'kg', 45, 50]] as const;
// Names as common as the region's: 20 frequent surnames × 24 frequent given names (480 names; the EMPI keeps a row per name).
const FHIR_SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const FHIR_GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀英', '霞', '平', '刚', '桂英', '建华', '志强'];
// A county's towns and villages (the EMPI blocks on name + village and birth date + village).
const FHIR_TOWNS = ['递铺街道', '昌硕街道', '灵峰街道', '孝丰镇', '报福镇', '章村镇', '天荒坪镇', '溪龙乡', '上墅乡', '山川乡', '杭垓镇', '梅溪镇'];
const FHIR_VILLAGES = ['横山', '大竹园', '马家', '白杨', '上舍', '高禹', '余村', '鲁家', '红庙', '剑山'];
const LOCAL_LAB = 'http://his.bench.example.cn/lab';
const BENCH_MRN = 'http://his.bench.example.cn/mrn';

function fhirVisit(entries: unknown[], sender: number, patient: number, visit: number, checkChar: (first17: string) => string, standard = false): void {
  const mrn = `S${sender}-${patient}`;
  const first17 = `330523${1950 + (patient % 50)}${String(1 + (patient % 12)).padStart(2, '0')}${String(1 + (patient % 28)).padStart(2, '0')}${String(patient % 1000).padStart(3, '0')}`;
  const p = `urn:uuid:${randomUUID()}`;
  const enc = `urn:uuid:${randomUUID()}`;
  const day = `2024-${String(1 + (visit % 12)).padStart(2, '0')}-${String(1 + (visit % 28)).padStart(2, '0')}`;
  entries.push({
    fullUrl: p,
    resource: {
      resourceType: 'Patient',
      identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: BENCH_MRN, value: mrn }, { system: 'urn:oid:2.16.156.10011.1.3', value: first17 + checkChar(first17) }],
      name: [{ text: FHIR_SURNAMES[(patient * 7 + sender) % 20] + FHIR_GIVEN[(patient * 11 + sender * 5) % 24] }], gender: patient % 2 ? 'male' : 'female', birthDate: `${first17.slice(6, 10)}-${first17.slice(10, 12)}-${first17.slice(12, 14)}`,
      telecom: [{ system: 'phone', value: `139${String(sender * 1_000_000 + patient).padStart(8, '0')}` }], address: [{ text: `浙江省湖州市安吉县${FHIR_TOWNS[patient % 12]}${FHIR_VILLAGES[(patient * 7) % 10]}村${patient % 300}号` }],
    },
    request: { method: 'PUT', url: `Patient?identifier=${BENCH_MRN}|${mrn}` },
  });
  entries.push({
    fullUrl: enc,
    resource: {
      resourceType: 'Encounter', identifier: [{ value: `V${sender}-${visit}` }], status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: p }, period: { start: `${day}T09:00:00+08:00`, end: `${day}T09:40:00+08:00` },
    },
    request: { method: 'POST', url: 'Encounter' },
  });
  if (standard) return standardCodedVisit(entries, p, enc, visit, day); // `--standard-codes` (issue 17): no local code
  const obs = (code: object, value: number, unit: string, at: string) => entries.push({
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: { resourceType: 'Observation', status: 'final', code, subject: { reference: p }, encounter: { reference: enc }, effectiveDateTime: `${day}T${at}:00+08:00`, valueQuantity: { value, unit } },
    request: { method: 'POST', url: 'Observation' },
  });
  for (const lab of FHIR_LABS) obs({ coding: [{ system: LOCAL_LAB, code: lab.code, display: lab.name }], text: lab.name }, Number(lab.value(visit).toFixed(1)), lab.unit, '09:20');
  for (const [loinc, unit, base, spread] of FHIR_VITALS) obs({ coding: [{ system: 'http://loinc.org', code: loinc }] }, base + (visit % spread), unit, '09:05');
}

/** `size` resources (10 per visit) from one sender; every fourth visit is of a patient seen in an earlier Bundle. */
function fhirBundle(sender: number, b: number, size: number, checkChar: (first17: string) => string, standard = false): string {
  const entries: unknown[] = [];
  const visits = Math.max(1, Math.round(size / 10));
  for (let v = 0; v < visits; v++) {
    const visit = b * visits + v;
    fhirVisit(entries, sender, v % 4 === 3 && b > 0 ? (b - 1) * visits + v - 1 : visit, visit, checkChar, standard);
  }
  return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries });
}

/**
 * The FHIR channel end to end: `senders` institutions post their Bundles at once through the HTTP app (in-process
 * inject: no socket), each waiting for its answer before the next, as a hospital's interface engine does. Prints
 * resources/s, the CPU per resource of node and of the PostgreSQL backends (the figure that holds on a busy machine),
 * then the landing step alone and a raw COPY of the same resources.
 *
 * `respondAsync` (`--async`): the Bundles are posted with `Prefer: respond-async` — each answered 202 once landed —
 * and the platform's own worker (the one the server runs) standardizes them meanwhile. Prints the acknowledged rate
 * (the 202s), then the end-to-end rate once the worker has settled every unit (time from the first post), each with
 * its ratio to the raw COPY, and what the status URLs answer at the end.
 */
async function benchFhir(db: Db, bundles: number, size: number, senders: number, respondAsync = false, workers?: { n: number; batch: number }, standard = false): Promise<void> {
  const { openTestPlatform } = await import('../src/api/testing.ts');
  const { residentIdCheckChar } = await import('../src/standards/index.ts');
  const { cpuSeconds } = await import('./store.ts');
  const p = await openTestPlatform({ db, logger: pino({ level: process.env.BENCH_LOG ?? 'silent' }) });
  try {
    const admin = await p.adminToken();
    const insts: Array<Awaited<ReturnType<typeof p.addInstitution>>> = [];
    for (let s = 0; s < senders; s++) {
      const inst = await p.addInstitution(`bench-fhir-${s}`);
      for (const lab of FHIR_LABS) {
        const res = await p.app.inject({ method: 'POST', url: '/admin/terminology/confirm', headers: { authorization: `Bearer ${admin}` }, payload: { institution: inst.id, localSystem: LOCAL_LAB, localCode: lab.code, targetSystem: 'http://loinc.org', targetCode: lab.loinc } });
        if (res.statusCode !== 200) throw new Error(`confirm ${lab.code}: ${res.body}`);
      }
      insts.push(inst);
    }
    const per = Math.ceil(bundles / senders);
    const bodies = insts.map((_, s) => Array.from({ length: per }, (_, b) => fhirBundle(s, b, size, residentIdCheckChar, standard)));
    if (standard) console.log('FHIR  standard-coded (Synthea-like) Bundles: SNOMED CT, LOINC in and outside the subset, RxNorm, CVX — no local code');
    const prefer: Record<string, string> = respondAsync ? { prefer: 'respond-async' } : {};
    const post = (token: string, payload: string) => p.app.inject({ method: 'POST', url: '/fhir', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', ...prefer }, payload });
    const ids = insts.map((i) => i.id);
    const pending = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM landed_unit WHERE institution_id = ANY($1::text[]) AND status = 'landed'`, [ids])).rows[0].n;
    /** Until the worker has settled every unit of the bench's institutions (polled every 20 ms; bounded). */
    const drained = async () => {
      for (let i = 0; i < 30_000 && (await pending()) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    };
    // Warm-up (terminology cache, EMPI model, validators' JIT) on a Bundle of its own, not counted.
    await post(insts[0].token, fhirBundle(senders, 0, size, residentIdCheckChar, standard));
    if (respondAsync) await drained();
    // `--workers N [--worker-batch B]`: the platform's worker replaced by N worker loops of B units a batch (what N
    // server nodes' workers do on one database: FOR UPDATE SKIP LOCKED shares the queue), with the platform's options.
    const extra: IngestWorker[] = [];
    const redone = { batches: 0, units: 0 };
    if (respondAsync && workers) {
      const { ingestFor, fhirStoreWriter } = await import('../src/api/ingest-runtime.ts');
      const { StandardizationRuntime, empiHooks } = await import('../src/standardize/index.ts');
      await ingestFor(p.deps).worker.stop();
      const standardize = new StandardizationRuntime(empiHooks()).standardize;
      extra.push(new IngestWorker(db, {
        standardize, ...fhirStoreWriter(() => new Date()), batchSize: workers.batch, idleMs: 20, loops: workers.n,
        onBatchRedone: (_err, units) => void ((redone.batches += 1), (redone.units += units)),
      }));
      for (const w of extra) w.start();
    }
    const backends = db.engine === 'postgres'
      ? [...new Set((await Promise.all(Array.from({ length: 8 }, () => db.transaction(async (tx) => (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.2)')).rows[0].pid)))))]
      : [];
    const statuses: Record<number, number> = {};
    const statusUrls: Array<{ url: string; token: string }> = [];
    const cpu0 = await cpuSeconds(backends);
    // Timed without `measured`: its forced full GC every second would be a third of the CPU this phase measures.
    const start = performance.now();
    await Promise.all(insts.map(async (inst, s) => {
      for (const payload of bodies[s]) {
        const res = await post(inst.token, payload);
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        if (res.headers['content-location']) statusUrls.push({ url: String(res.headers['content-location']), token: inst.token });
      }
    }));
    const ackSecs = (performance.now() - start) / 1000;
    const backlog = respondAsync ? await pending() : 0;
    if (respondAsync) await drained();
    const secs = (performance.now() - start) / 1000;
    for (const w of extra) await w.stop();
    const heapMb = process.memoryUsage().heapUsed / 1048576;
    const cpu1 = await cpuSeconds(backends);
    const resources = per * senders * Math.max(1, Math.round(size / 10)) * 10;
    const nodeUs = ((cpu1.node - cpu0.node) / resources) * 1e6;
    const pgUs = ((cpu1.pg - cpu0.pg) / resources) * 1e6;
    const { rows: stored } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resource WHERE institution_id = ANY($1::text[])`, [insts.map((i) => i.id)]);
    if (respondAsync) {
      if (workers) console.log(`FHIR  async: ${workers.n} worker loop(s) of ${workers.batch} units a batch instead of the platform's worker; batches redone unit by unit: ${redone.batches} (${redone.units} units)`);
      console.log(`FHIR  async: ${fmt(resources)} resources in ${per * senders} transaction Bundles of ${size} from ${senders} institutions at once, Prefer: respond-async — acknowledged in ${ackSecs.toFixed(2)} s = ${fmt(resources / ackSecs)} resources/s (HTTP ${JSON.stringify(statuses)}; ${backlog} Bundles still queued for the worker then)`);
      const finals: Record<number, number> = {};
      for (const { url, token } of statusUrls) {
        const res = await p.app.inject({ method: 'GET', url: new URL(url).pathname, headers: { authorization: `Bearer ${token}` } });
        finals[res.statusCode] = (finals[res.statusCode] ?? 0) + 1;
      }
      console.log(`FHIR  async: standardized and stored by the worker ${secs.toFixed(2)} s after the first post = ${fmt(resources / secs)} resources/s end to end (status URLs then: HTTP ${JSON.stringify(finals)}; ${fmt(stored[0].n)} current resources) · heap ${heapMb.toFixed(0)} MB at the end`);
    } else {
      console.log(`FHIR  ${fmt(resources)} resources in ${per * senders} transaction Bundles of ${size} from ${senders} institutions at once in ${secs.toFixed(2)} s = ${fmt(resources / secs)} resources/s standardized and stored (HTTP ${JSON.stringify(statuses)}; ${fmt(stored[0].n)} current resources) · heap ${heapMb.toFixed(0)} MB at the end`);
    }
    console.log(`FHIR  CPU per resource: node ${nodeUs.toFixed(0)} µs${backends.length ? ` + PostgreSQL ${pgUs.toFixed(0)} µs → ${fmt(2e6 / (nodeUs + pgUs))} resources/s if both had 2 idle cores to themselves` : ' (PGlite: the database runs inside node)'} (load average ${loadavg()[0].toFixed(1)})`);
    // The landing step alone (what the channel adds in front of standardization), on fresh copies of the Bundles.
    const fresh = bodies.flat().map((b) => b.replace('"transaction"', '"batch"'));
    const landOnly = await measured(async () => {
      for (const b of fresh) await landFhirBundle(db, insts[0].id, b, JSON.parse(b));
    });
    console.log(`FHIR  landing step only: ${fmt(resources / landOnly.secs)} resources/s (${fmt(fresh.length / landOnly.secs)} Bundles/s)`);
    await db.exec('DROP TABLE IF EXISTS copy_fhir; CREATE TABLE copy_fhir (id text, resource_type text, content jsonb)');
    const rows = bodies.flat().flatMap((b) => (JSON.parse(b).entry as Array<{ resource: { resourceType: string } }>).map((e, i) => [String(i), e.resource.resourceType, e.resource]));
    const t0 = performance.now();
    await db.copyFrom('copy_fhir', ['id', 'resource_type', 'content'], rows);
    const copyRate = rows.length / ((performance.now() - t0) / 1000);
    console.log(
      `FHIR  raw COPY of the same resources ${fmt(copyRate)} rows/s · ratio ${respondAsync ? `acknowledged ${((resources / ackSecs) / copyRate).toFixed(3)}, end to end ` : ''}${((resources / secs) / copyRate).toFixed(3)}`,
    );
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
    const only = args.find((a) => ['csv', 'hl7', 'fhir', 'csv-landing', 'hl7-landing', 'fairness'].includes(a));
    // CSV and HL7 end to end on a synthetic county's own feeds, drained before the next phase (bench/ingest-e2e.ts:
    // `--persons P --seed S`); `csv-landing` / `hl7-landing` time the landing alone on generated rows (memory flat
    // with file size, ratio to a raw COPY), leaving what they land unstandardized.
    const county = !only || only === 'csv' || only === 'hl7' ? await benchCounty(arg(args, 'persons', 2000), arg(args, 'seed', 1)) : undefined;
    try {
      // `--workers N [--worker-batch B]`: N worker loops (default: the platform's) of B units a batch.
      const workers = { loops: args.includes('--workers') ? arg(args, 'workers', 1) : undefined, batchSize: args.includes('--worker-batch') ? arg(args, 'worker-batch', 500) : undefined };
      if (!only || only === 'csv') await benchCsvCounty(db, county!, workers);
      if (!only || only === 'hl7') await benchHl7County(db, county!, arg(args, 'connections', 16), workers);
    } finally {
      county?.close();
    }
    if (only === 'csv-landing') await benchCsv(db, arg(args, 'rows', 200_000));
    if (only === 'hl7-landing') await benchMllp(db, arg(args, 'messages', 20_000), arg(args, 'connections', 16));
    if (!only || only === 'fhir') await benchFhir(db, arg(args, 'bundles', 60), arg(args, 'bundle-size', 100), arg(args, 'senders', 4), args.includes('--async'),
      args.includes('--workers') ? { n: arg(args, 'workers', 1), batch: arg(args, 'worker-batch', 500) } : undefined, args.includes('--standard-codes'));
    // Issue 18: a large upload's time to acknowledge while other senders upload (bench/ingest-fairness.ts).
    if (!only || only === 'fairness') await benchUploadFairness(db, arg(args, 'mb', 10), arg(args, 'senders', 4), arg(args, 'rounds', 3));
  } finally {
    if (schema) await db.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
