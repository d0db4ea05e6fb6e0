/**
 * `npm run bench -- record [--persons N] [--resources M] [--heavy H] [--samples S] [--keep]`: the record summary
 * (issue 6) on PostgreSQL at regional scale. Builds, with COPY, a store of realistic shape — N golden persons with
 * 1–3 institution-level Patients each (EMPI rows), M clinical resources (Encounter, Condition, Observation with LOINC
 * and UCUM values, MedicationRequest, DiagnosticReport, Immunization: real FHIR JSON), among them H "heavy" persons
 * with 2,000 resources each spread over three institutions, their rows SCATTERED through the load (as years of visits
 * would leave them in the heap, not clustered) — then times `getRecordSummary` for heavy persons through the domain
 * (access decision with the care-relationship query, the set-based read, the build, the audit write and commit),
 * p50/p95/p99. Only the indexes the record path uses are built during the load (PK, (resource_type, id)); the GIN
 * search indexes of the FHIR store do not take part in these queries. Runs in its own schema, dropped unless --keep.
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../src/fhir/context.ts';
import { getRecordSummary, recordDepsFor } from '../src/record/index.ts';
import { openDb, type Db } from '../src/store/index.ts';

interface Options { persons: number; resources: number; heavy: number; samples: number; keep: boolean; reuse?: string }

function parseArgs(args: string[]): Options {
  const get = (name: string, def: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const r = args.indexOf('--reuse');
  return {
    persons: get('persons', 1_000_000), resources: get('resources', 20_000_000), heavy: get('heavy', 100), samples: get('samples', 1000),
    keep: args.includes('--keep') || r >= 0, reuse: r >= 0 ? args[r + 1] : undefined,
  };
}

/** CPU seconds (user + system) of this process and of the PostgreSQL backends of our pool (as bench/store.ts). */
async function cpuSeconds(backends: number[]): Promise<{ node: number; pg: number }> {
  const { readFile } = await import('node:fs/promises');
  let pg = 0;
  for (const pid of backends) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    pg += (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
  }
  const u = process.cpuUsage();
  return { node: (u.user + u.system) / 1e6, pg };
}

const INSTITUTIONS = 200;
const LABS: Array<[string, string, string, number]> = [
  ['14749-6', '葡萄糖', 'mmol/L', 5.5], ['2093-3', '总胆固醇', 'mmol/L', 4.8], ['14682-9', '肌酐', 'umol/L', 80], ['718-7', '血红蛋白', 'g/L', 135],
  ['6690-2', '白细胞计数', '10*9/L', 6.5], ['8480-6', '收缩压', 'mm[Hg]', 130], ['8462-4', '舒张压', 'mm[Hg]', 82], ['4548-4', '糖化血红蛋白', '%', 6.1],
];
const DX: Array<[string, string]> = [['I10', '原发性高血压'], ['E11.9', '2型糖尿病'], ['J06.9', '急性上呼吸道感染'], ['K29.7', '胃炎'], ['M54.5', '腰痛']];
const DRUGS: Array<[string, string]> = [['C08CA01', '氨氯地平'], ['A10BA02', '二甲双胍'], ['C09AA02', '依那普利'], ['J01CA04', '阿莫西林']];
const inst = (i: number) => `inst-${String(i % INSTITUTIONS).padStart(3, '0')}`;
const TODAY = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
/** Ten years of history ending today. */
const day = (n: number) => new Date(TODAY - (n % 3650) * 86_400_000).toISOString().slice(0, 10);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One clinical resource row (COPY column order below) of kind `k` for patient key `pk`. */
function resourceRow(k: number, pk: string, institution: string, seq: number): unknown[] {
  const id = `r${seq.toString(36)}`;
  const d = day(seq * 7 + k);
  const subject = `{"reference":"Patient/${pk}"}`;
  const enc = `"encounter":{"reference":"Encounter/e${Math.floor(seq / 10).toString(36)}"}`;
  let type: string;
  let content: string;
  let status: string;
  const kind = k % 20;
  if (kind < 3) {
    type = 'Encounter'; status = 'finished';
    content = `{"resourceType":"Encounter","id":"${id}","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"${kind === 0 ? 'IMP' : 'AMB'}"},"subject":${subject},"period":{"start":"${d}T09:00:00+08:00"},"serviceType":{"text":"内科"},"serviceProvider":{"reference":"Organization/${institution}"},"participant":[{"individual":{"display":"王医生"}}]}`;
  } else if (kind < 5) {
    const [c, n] = DX[seq % DX.length];
    type = 'Condition'; status = '';
    content = `{"resourceType":"Condition","id":"${id}","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis"}]}],"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"${c}","display":"${n}"}],"text":"${n}"},"subject":${subject},${enc},"recordedDate":"${d}"}`;
  } else if (kind < 17) {
    const [c, n, u, v] = LABS[seq % LABS.length];
    type = 'Observation'; status = 'final';
    content = `{"resourceType":"Observation","id":"${id}","meta":{"source":"urn:healthbrain:landing:${seq}"},"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":"${c}","display":"${n}"},{"system":"urn:local:${institution}/lab","code":"L${seq % 97}","display":"${n}"}],"text":"${n}"},"subject":${subject},${enc},"effectiveDateTime":"${d}T08:30:00+08:00","issued":"${d}T10:00:00.000Z","performer":[{"reference":"Organization/${institution}"}],"valueQuantity":{"value":${(v * (0.8 + (seq % 40) / 100)).toFixed(1)},"unit":"${u}","system":"http://unitsofmeasure.org","code":"${u}"},"referenceRange":[{"text":"参考范围"}]}`;
  } else if (kind < 19) {
    const [c, n] = DRUGS[seq % DRUGS.length];
    type = 'MedicationRequest'; status = 'completed';
    content = `{"resourceType":"MedicationRequest","id":"${id}","status":"completed","intent":"order","medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"${c}","display":"${n}"}],"text":"${n}"},"subject":${subject},${enc},"authoredOn":"${d}","requester":{"reference":"Organization/${institution}"},"dosageInstruction":[{"text":"5 mg 口服 每日一次"}],"dispenseRequest":{"expectedSupplyDuration":{"value":30,"unit":"d","system":"http://unitsofmeasure.org","code":"d"}}}`;
  } else if (seq % 2) {
    type = 'DiagnosticReport'; status = 'final';
    content = `{"resourceType":"DiagnosticReport","id":"${id}","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"RAD"}]}],"code":{"text":"胸部CT平扫"},"subject":${subject},"effectiveDateTime":"${d}","conclusion":"双肺未见明显异常","presentedForm":[{"contentType":"text/plain; charset=utf-8","data":"5Y+M6IK657q555CG5riF5pmw"}]}`;
  } else {
    type = 'Immunization'; status = 'completed';
    content = `{"resourceType":"Immunization","id":"${id}","status":"completed","vaccineCode":{"coding":[{"system":"urn:oid:2.16.156.10011.2.3.3.22","code":"5301","display":"流感疫苗"}]},"patient":${subject},"occurrenceDateTime":"${d}","primarySource":true}`;
  }
  const ts = `${d}T02:00:00Z`;
  return [pk, type, id, 1, ts, 'f', institution, content, status || null, ts, ts];
}

const COLS = ['patient_key', 'resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'institution_id', 'content', 'status', 'date_lo', 'date_hi'];

export async function run(args: string[]): Promise<void> {
  const opt = parseArgs(args);
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = opt.reuse ?? 'bench_record_' + randomBytes(4).toString('hex');
  const db = await openDb({ databaseUrl: url, schema, poolSize: 4 });
  const t0 = performance.now();
  const secs = () => ((performance.now() - t0) / 1000).toFixed(0) + ' s';
  try {
    console.log(`record benchmark: PostgreSQL ${url.replace(/\/\/[^@]*@/, '//')} schema ${schema}`);
    if (!opt.reuse) await load(db, opt, secs);
    else console.log(`record benchmark: reusing schema ${schema} (${opt.heavy} heavy persons)`);
    await measure(db, opt);
  } finally {
    if (!opt.keep) await db.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    else console.log(`schema kept: ${schema} (npm run bench -- record --reuse ${schema} --heavy ${opt.heavy})`);
    await db.close();
  }
}

async function load(db: Db, opt: Options, secs: () => string): Promise<void> {
  {
    console.log(`record benchmark: ${opt.persons} persons, ${opt.resources} resources, ${opt.heavy} heavy persons × 2000`);
    for (const ix of ['fhir_resource_patient', 'fhir_resource_updated', 'fhir_resource_date', 'fhir_resource_identifiers', 'fhir_resource_codes', 'fhir_resource_categories', 'fhir_resource_tokens', 'fhir_resource_strings', 'fhir_resource_refs']) {
      await db.exec(`DROP INDEX IF EXISTS ${ix}`);
    }
    await db.copyFrom('institution', ['id', 'code', 'name', 'type'], Array.from({ length: INSTITUTIONS }, (_, i) => [inst(i), `I${i}`, `安吉县第${i}医疗机构`, i < 20 ? 'hospital' : 'township']));
    // Persons and their institution-level Patients: person p has 1–3 keys; heavy persons (the first H) have 3.
    const keysOf = (p: number) => (p < opt.heavy ? 3 : 1 + (p % 3));
    await db.copyFrom('empi_person', ['person_id', 'health_card', 'resident_id', 'golden'], (function* () {
      for (let p = 0; p < opt.persons; p++) {
        const pid = `P${String(p + 1).padStart(10, '0')}`;
        const rid = `330523${1940 + (p % 60)}0101${String(p % 1000).padStart(3, '0')}X`;
        yield [pid, `HC${String(p).padStart(18, '0')}`, rid, `{"name":{"value":"张${p % 97}","source":"k${p}-0"},"sex":{"value":"M","source":"k${p}-0"},"birthDate":{"value":"${1940 + (p % 60)}-01-01","source":"k${p}-0"},"residentId":{"value":"${rid}","source":"k${p}-0"},"phone":{"value":"138${String(p).padStart(8, '0')}","source":"k${p}-0"}}`];
      }
    })());
    await db.copyFrom('empi_record', ['patient_key', 'institution_id', 'local_value', 'person_id', 'name'], (function* () {
      for (let p = 0; p < opt.persons; p++) for (let k = 0; k < keysOf(p); k++) yield [`k${p}-${k}`, inst(p + k * 7), `MRN${p}-${k}`, `P${String(p + 1).padStart(10, '0')}`, `张${p % 97}`];
    })());
    console.log(`persons and EMPI records loaded (${secs()})`);
    // Resources: heavy rows interleaved evenly through the normal ones.
    const heavyRows = opt.heavy * 2000;
    const normalRows = Math.max(opt.resources - heavyRows, 0);
    const every = heavyRows ? Math.max(1, Math.floor(normalRows / heavyRows)) : Infinity;
    let seq = 0;
    const n = await db.copyFrom('fhir_resource', COLS, (function* () {
      let h = 0;
      for (let i = 0; i < normalRows; i++) {
        const span = Math.max(opt.persons - opt.heavy, 1);
        const round = Math.floor(i / span);
        const p = opt.heavy + (i % span);
        const k = round % keysOf(p);
        yield resourceRow(round, `k${p}-${k}`, inst(p + k * 7), seq++);
        if (h < heavyRows && i % every === 0) {
          const hp = h % opt.heavy;
          const j = Math.floor(h / opt.heavy);
          yield resourceRow(j, `k${hp}-${j % 3}`, inst(hp + (j % 3) * 7), seq++);
          h++;
        }
        if (i && i % 2_000_000 === 0) console.log(`  ${i} resources (${secs()})`);
      }
      while (h < heavyRows) {
        const hp = h % opt.heavy;
        const j = Math.floor(h / opt.heavy);
        yield resourceRow(j, `k${hp}-${j % 3}`, inst(hp + (j % 3) * 7), seq++);
        h++;
      }
    })());
    console.log(`${n} resources loaded by COPY (${secs()}); ANALYZE`);
    await db.exec('ANALYZE fhir_resource; ANALYZE empi_person; ANALYZE empi_record; ANALYZE institution');
  }
}

async function measure(db: Db, opt: Options): Promise<void> {
  {
    const backends = [...new Set((await Promise.all(Array.from({ length: 4 }, () =>
      db.transaction(async (tx) => (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.2)')).rows[0].pid)))))];

    const deps = recordDepsFor(db);
    const persons = Array.from({ length: opt.heavy }, (_, p) => `P${String(p + 1).padStart(10, '0')}`);
    // Each heavy person's clinician works at the institution of its first Patient (an encounter there: a relationship).
    const actorFor = (p: number): Actor => ({ kind: 'user', subject: 'bench-doctor', role: 'clinician', institutionId: inst(p), scopes: ['user/*.read'] });
    let items = 0;
    const time = async (i: number) => {
      const p = i % opt.heavy;
      const t = performance.now();
      const s = await getRecordSummary(deps, actorFor(p), persons[p]);
      const ms = performance.now() - t;
      items = s.encounters.length + s.problems.length + s.medications.length + s.exams.length + s.immunizations.length + s.labs.reduce((a, l) => a + l.points.length, 0);
      return ms;
    };
    const cold: number[] = [];
    for (let i = 0; i < opt.heavy; i++) cold.push(await time(i));
    cold.sort((a, b) => a - b);
    console.log(`summary, first read of each heavy person (${cold.length}): p50 ${pct(cold, 50).toFixed(1)} ms  p99 ${pct(cold, 99).toFixed(1)} ms  (${items} items in the last one)`);
    const warm: number[] = [];
    const cpu0 = await cpuSeconds(backends);
    for (let i = 0; i < opt.samples; i++) warm.push(await time(i * 31));
    const cpu1 = await cpuSeconds(backends);
    warm.sort((a, b) => a - b);
    console.log(`summary, ${warm.length} reads:                 p50 ${pct(warm, 50).toFixed(1)} ms  p95 ${pct(warm, 95).toFixed(1)} ms  p99 ${pct(warm, 99).toFixed(1)} ms`);
    console.log(`  CPU per summary: node ${(((cpu1.node - cpu0.node) / warm.length) * 1000).toFixed(1)} ms + PostgreSQL ${(((cpu1.pg - cpu0.pg) / warm.length) * 1000).toFixed(1)} ms (load average now ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).cpus().length} cores)`);
    const conc: number[] = [];
    const started = performance.now();
    await Promise.all([0, 1, 2, 3].map(async (w) => {
      for (let i = 0; i < opt.samples / 4; i++) conc.push(await time(i * 4 + w));
    }));
    conc.sort((a, b) => a - b);
    console.log(`summary, 4 concurrent readers:    p50 ${pct(conc, 50).toFixed(1)} ms  p99 ${pct(conc, 99).toFixed(1)} ms  ${(conc.length / ((performance.now() - started) / 1000)).toFixed(0)} summaries/s (audit group commit)`);
  }
}
