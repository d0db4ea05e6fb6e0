/**
 * `npm run bench -- store [--resources N] [--concurrency C]`: the FHIR store on PostgreSQL (issue 2, item 8).
 * Measures, through the FHIR domain (router + repository, no HTTP — the HTTP layer adds JSON parsing and a socket
 * hop per request): transaction-Bundle ingest in resources/s for bundles of 100 and of 1,000 (Patient upserted by
 * identifier + Encounters + Observations, each bundle repeating its Organization as a conditional create); read
 * p50/p99; Patient search-by-identifier p50/p99 — at N stored resources. Then loads the same resource JSON with a
 * raw COPY into a plain table (the physical limit) and prints the ratio. Runs in its own schema, dropped after.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { createFhirServices, handleFhirRequest, outcomeStatus, type RequestContext } from '../src/fhir/index.ts';
import { openDb } from '../src/store/index.ts';

const ID_SYS = 'urn:oid:2.16.156.10011.1.1';
const FAMILIES = ['张', '王', '李', '赵', '陈', '刘', '杨', '黄', '周', '吴'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰'];
const LOINC = [['8480-6', 'mm[Hg]'], ['8462-4', 'mm[Hg]'], ['2345-7', 'mmol/L'], ['4548-4', '%'], ['29463-7', 'kg'], ['8867-4', '/min'], ['2093-3', 'mmol/L']];

interface Options {
  resources: number;
  concurrency: number;
  /** Keep the schema afterwards (to EXPLAIN queries against it). */
  keep: boolean;
}

function parseArgs(args: string[]): Options {
  const get = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  return { resources: get('resources', 1_000_000), concurrency: get('concurrency', 3), keep: args.includes('--keep') };
}

let patientSeq = 0;

/** One patient's visit: Patient (conditional PUT by resident id) + 2 Encounters + 7 Observations = 10 resources. */
function visit(entries: BundleEntry[], org: string): string {
  const n = patientSeq++;
  const resident = `3305231980${String(n).padStart(8, '0')}`;
  const pat = `urn:uuid:${randomUUID()}`;
  entries.push({
    fullUrl: pat,
    resource: {
      resourceType: 'Patient', identifier: [{ system: ID_SYS, value: resident }],
      name: [{ family: FAMILIES[n % 10], given: [GIVEN[n % 12]], text: FAMILIES[n % 10] + GIVEN[n % 12] }],
      gender: n % 2 ? 'male' : 'female', birthDate: `19${50 + (n % 50)}-0${1 + (n % 9)}-1${n % 10}`,
      telecom: [{ system: 'phone', value: `138${String(n).padStart(8, '0')}` }], managingOrganization: { reference: org },
    },
    request: { method: 'PUT', url: `Patient?identifier=${ID_SYS}|${resident}` },
  });
  for (let e = 0; e < 2; e++) {
    const enc = `urn:uuid:${randomUUID()}`;
    const day = `2024-0${1 + ((n + e) % 9)}-1${(n + e) % 10}`;
    entries.push({
      fullUrl: enc,
      resource: {
        resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: e ? 'IMP' : 'AMB' },
        subject: { reference: pat }, period: { start: `${day}T09:00:00+08:00`, end: `${day}T09:30:00+08:00` }, serviceProvider: { reference: org },
      },
      request: { method: 'POST', url: 'Encounter' },
    });
    for (let o = 0; o < (e ? 3 : 4); o++) {
      const [code, unit] = LOINC[(n + o) % LOINC.length];
      entries.push({
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: {
          resourceType: 'Observation', status: 'final',
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
          code: { coding: [{ system: 'http://loinc.org', code }] }, subject: { reference: pat }, encounter: { reference: enc },
          effectiveDateTime: `${day}T09:1${o}:00+08:00`, valueQuantity: { value: 5 + ((n * 7 + o) % 100) / 10, unit, system: 'http://unitsofmeasure.org', code: unit },
        },
        request: { method: 'POST', url: 'Observation' },
      });
    }
  }
  return resident;
}

/** A transaction of `size` resources from one institution: its Organization (conditional create) + visits. */
export function makeBundle(size: number, institution: number, residents: string[]): Bundle {
  const org = `urn:uuid:${randomUUID()}`;
  const entries: BundleEntry[] = [{
    fullUrl: org,
    resource: { resourceType: 'Organization', identifier: [{ system: 'urn:uscc', value: `1233052${String(institution).padStart(4, '0')}` }], name: `安吉县第${institution}卫生院` },
    request: { method: 'POST', url: 'Organization', ifNoneExist: `identifier=urn:uscc|1233052${String(institution).padStart(4, '0')}` },
  }];
  while (entries.length + 10 <= size) {
    const r = visit(entries, org);
    if (residents.length < 50_000) residents.push(r);
  }
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

/** CPU seconds (user + system) used so far by this process and by the PostgreSQL backends serving our pool. */
export async function cpuSeconds(backends: number[]): Promise<{ node: number; pg: number }> {
  const { readFile } = await import('node:fs/promises');
  let pg = 0;
  for (const pid of backends) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    pg += (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  }
  const u = process.cpuUsage();
  return { node: (u.user + u.system) / 1e6, pg };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function run(args: string[]): Promise<void> {
  const opt = parseArgs(args);
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = 'bench_store_' + randomBytes(4).toString('hex');
  const db = await openDb({ databaseUrl: url, schema, poolSize: opt.concurrency + 2 });
  const services = createFhirServices({ db });
  const ctx: RequestContext = { actor: { kind: 'system', subject: 'bench', institutionId: 'bench', scopes: ['system/*.*'] }, baseUrl: 'http://bench/fhir' };
  const residents: string[] = [];
  let stored = 0;
  try {
    console.log(`(measured through the FHIR domain — router + repository — without HTTP; the HTTP layer adds body parsing and serialisation)`);
    console.log(`store benchmark: PostgreSQL ${url.replace(/\/\/[^@]*@/, '//')} schema ${schema}, target ${opt.resources} resources, concurrency ${opt.concurrency}`);
    // The server processes of our pool (PostgreSQL runs on this machine in the benchmark setup): holding every
    // connection at once reveals each backend's pid, whose CPU time /proc then reports.
    const poolSize = opt.concurrency + 2;
    const backends = [...new Set((await Promise.all(Array.from({ length: poolSize }, () =>
      db.transaction(async (tx) => (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.2)')).rows[0].pid)))))];
    const ingest = async (size: number, upTo: number): Promise<number> => {
      const start = performance.now();
      const cpu0 = await cpuSeconds(backends);
      const begin = stored;
      let institution = 0;
      const worker = async () => {
        while (stored < upTo) {
          const bundle = makeBundle(size, (institution++ % 200) + 1, residents);
          stored += bundle.entry?.length ?? 0;
          const res = await handleFhirRequest({ method: 'POST', path: '', query: [], body: bundle, headers: {} }, ctx, services);
          if (outcomeStatus(res.outcome) !== 200) throw new Error(JSON.stringify(res.outcome));
        }
      };
      await Promise.all(Array.from({ length: opt.concurrency }, worker));
      const cpu1 = await cpuSeconds(backends);
      const n = stored - begin;
      const nodeUs = ((cpu1.node - cpu0.node) / n) * 1e6;
      const pgUs = ((cpu1.pg - cpu0.pg) / n) * 1e6;
      if (size >= 100 && n > 5000) {
        console.log(`  CPU per resource: node ${nodeUs.toFixed(0)} µs + PostgreSQL ${pgUs.toFixed(0)} µs` +
          ` → ${(2e6 / (nodeUs + pgUs)).toFixed(0)} resources/s if both had 2 idle cores to themselves (load average now ${loadavg()[0].toFixed(1)})`);
      }
      return n / ((performance.now() - start) / 1000);
    };
    await ingest(100, Math.min(2_000, opt.resources)); // warm-up: definitions load, JIT, connections
    const small = await ingest(100, stored + Math.min(Math.max(20_000, opt.resources / 10), (opt.resources - stored) / 2));
    console.log(`ingest, transaction bundles of 100:   ${small.toFixed(0)} resources/s`);
    const large = await ingest(1000, opt.resources);
    console.log(`ingest, transaction bundles of 1000:  ${large.toFixed(0)} resources/s  (loaded ${stored} resources)`);
    await db.exec('ANALYZE fhir_resource; ANALYZE fhir_shared_resource');

    const ids = (await db.query<{ id: string }>(`SELECT id FROM fhir_resource TABLESAMPLE SYSTEM (1) WHERE resource_type = 'Observation' LIMIT 2000`)).rows.map((r) => r.id);
    const reads: number[] = [];
    for (const id of ids) {
      const t = performance.now();
      await services.repo.read('Observation', id);
      reads.push(performance.now() - t);
    }
    reads.sort((a, b) => a - b);
    console.log(`read (${reads.length}):                 p50 ${pct(reads, 50).toFixed(2)} ms  p99 ${pct(reads, 99).toFixed(2)} ms`);
    const searches: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const resident = residents[(i * 7919) % residents.length];
      const t = performance.now();
      const b = await services.repo.search('Patient', [['identifier', `${ID_SYS}|${resident}`]], { baseUrl: ctx.baseUrl });
      searches.push(performance.now() - t);
      if (b.entry?.length !== 1) throw new Error(`identifier ${resident} found ${b.entry?.length}`);
    }
    searches.sort((a, b) => a - b);
    console.log(`search Patient?identifier (2000):     p50 ${pct(searches, 50).toFixed(2)} ms  p99 ${pct(searches, 99).toFixed(2)} ms`);

    await db.exec('CREATE TABLE bench_copy (resource_type text, id text, content jsonb)');
    const copyStart = performance.now();
    const copied = await db.copyFrom('bench_copy', ['resource_type', 'id', 'content'], (function* () {
      let n = 0;
      while (n < stored) {
        for (const e of makeBundle(1000, 1, []).entry ?? []) {
          yield [e.resource?.resourceType, randomUUID(), e.resource];
          if (++n >= stored) break;
        }
      }
    })());
    const copyRate = copied / ((performance.now() - copyStart) / 1000);
    console.log(`raw COPY of the same resources into a plain table: ${copyRate.toFixed(0)} resources/s`);
    console.log(`ratio bundle-1000 ingest / raw COPY: ${(large / copyRate).toFixed(2)}  (bundle-100: ${(small / copyRate).toFixed(2)})`);
  } finally {
    if (!opt.keep) await db.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
}
