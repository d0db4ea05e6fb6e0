/**
 * `generateCounty(options)`: writes DIR/county.json, DIR/feeds/<institution>/… and DIR/truth/… (format in
 * docs/SYNTH.md). Chunks of persons are generated independently — in worker threads for large counties — and
 * appended in chunk order, so memory stays bounded and the bytes do not depend on the number of workers.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import iconv from 'iconv-lite';
import { CORE_TABLES } from '../standards/core-tables.ts';
import { generateChunk, type ChunkResult } from './chunk.ts';
import type { Institution, SynthSummary } from './county-types.ts';
import { isoDay } from './dates.ts';
import type { SynthOptions } from './options.ts';
import type { InstCounts } from './output.ts';
import { buildWorld, worldInput, type World, type WorldInput } from './world.ts';

function feedFiles(inst: Institution): [string, Uint8Array][] {
  if (inst.format === 'hl7v2') return [[`${inst.feedDir}/messages.hl7`, new Uint8Array()]];
  if (inst.format === 'fhir') return [[`${inst.feedDir}/bundles.ndjson`, new Uint8Array()]];
  const d = inst.csv!;
  return Object.entries(d.columnOrder).map(([table, cols]) => {
    const t = CORE_TABLES.find((x) => x.key === table)!;
    const header = cols.map((k) => (d.headerLanguage === 'zh' ? t.columns.find((c) => c.key === k)!.header : k)).join(d.delimiter) + (d.lineEnding === 'CRLF' ? '\r\n' : '\n');
    const text = (d.bom ? '\uFEFF' : '') + header;
    return [`${inst.feedDir}/${table}.csv`, inst.encoding === 'gbk' ? iconv.encode(header, 'gbk') : Buffer.from(text, 'utf8')];
  });
}

/** Runs chunks in order, inline or on worker threads, calling `take` with each result in chunk order. */
async function runChunks(world: World, input: WorldInput, workers: number, take: (r: ChunkResult) => void): Promise<void> {
  if (workers <= 1) {
    for (let c = 0; c < world.chunks; c++) take(generateChunk(world, c));
    return;
  }
  const pending = new Map<number, ChunkResult>();
  let next = 0;
  let dispatched = 0;
  const pool = Array.from({ length: workers }, () => new Worker(new URL('./synth-worker.ts', import.meta.url), { workerData: input }));
  const idle = new Set<Worker>();
  try {
    await new Promise<void>((resolve, reject) => {
      // Keep at most workers + 1 chunks generated ahead of the writer, so memory stays bounded.
      const dispatch = () => {
        for (const w of [...idle]) {
          if (dispatched >= world.chunks || dispatched - next >= workers + 1) return;
          idle.delete(w);
          w.postMessage(dispatched++);
        }
      };
      for (const w of pool) {
        w.on('error', reject);
        w.on('message', (r: ChunkResult) => {
          idle.add(w);
          pending.set(r.chunk, r);
          while (pending.has(next)) {
            const x = pending.get(next)!;
            pending.delete(next++);
            try {
              take(x);
            } catch (e) {
              reject(e);
              return;
            }
          }
          if (next === world.chunks) resolve();
          else dispatch();
        });
        idle.add(w);
      }
      dispatch();
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

/** Generates a synthetic county into `options.outDir` (must be absent or empty). Deterministic in the options. */
export async function generateCounty(options: SynthOptions): Promise<SynthSummary> {
  const t0 = performance.now();
  const input = worldInput(options);
  const world = buildWorld(input);
  const dir = options.outDir;
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new Error(`output directory ${dir} is not empty`);
  mkdirSync(join(dir, 'truth'), { recursive: true });
  const insts = world.county.institutions;
  writeFileSync(join(dir, 'county.json'), `${JSON.stringify(world.county, null, 2)}\n`);

  const fds = new Map<string, number>();
  let bytes = 0;
  const append = (rel: string, data: Uint8Array) => {
    let fd = fds.get(rel);
    if (fd === undefined) {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      fds.set(rel, (fd = openSync(join(dir, rel), 'w')));
    }
    if (data.length) writeSync(fd, data);
    bytes += data.length;
  };
  for (const inst of insts) for (const [rel, head] of feedFiles(inst)) append(rel, head);
  append('truth/persons.ndjson', new Uint8Array());
  append('truth/records.ndjson', new Uint8Array());
  append('truth/mrns.csv', Buffer.from('inst,mrn,person,errors\n'));

  const counts = new Map<string, InstCounts>();
  let households = 0;
  let outbreakCases = 0;
  let done = 0;
  const workers = options.workers ?? (input.persons >= 50_000 ? 2 : 1);
  try {
    await runChunks(world, input, workers, (r) => {
      for (const [rel, data] of r.feeds) append(rel, data);
      append('truth/records.ndjson', r.truth);
      append('truth/persons.ndjson', r.persons_);
      append('truth/mrns.csv', r.mrns);
      for (const [code, c] of r.counts) {
        const t = counts.get(code) ?? { records: 0, distinct: 0, duplicates: 0, malformed: 0, late: 0, files: {} };
        t.records += c.records;
        t.distinct += c.distinct;
        t.duplicates += c.duplicates;
        t.malformed += c.malformed;
        t.late += c.late;
        for (const [f, n] of Object.entries(c.files)) t.files[f] = (t.files[f] ?? 0) + n;
        counts.set(code, t);
      }
      households += r.households;
      outbreakCases += r.outbreakCases;
      done += r.persons;
      options.onProgress?.(done, input.persons);
    });
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }

  const codeMap = ['inst,kind,local_system,local_code,local_name,standard_system,standard_code,standard_name'];
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  world.catalogs.forEach((cat) => {
    for (const r of cat.rows) codeMap.push([cat.inst.code, r.kind, r.localSystem, r.localCode, r.localName, r.standardSystem, r.standardCode, r.standardName].map(q).join(','));
  });
  writeFileSync(join(dir, 'truth/code-map.csv'), `${codeMap.join('\n')}\n`);
  const ob = world.outbreak;
  const weeks: string[] = [];
  for (let d = ob.startDay; d < ob.startDay + ob.days; d += 7) weeks.push(isoDay(d));
  writeFileSync(join(dir, 'truth/outbreak.json'), `${JSON.stringify({ syndrome: 'ILI', icd10: 'J11.1', townshipCode: ob.townshipCode, townshipName: world.county.divisions[ob.townshipIdx].name, start: isoDay(ob.startDay), end: isoDay(ob.startDay + ob.days - 1), weekStarts: weeks, weeklyAttackRate: ob.weeklyAttack, excessCases: outbreakCases }, null, 2)}\n`);
  const perInst = Object.fromEntries(insts.map((i) => [i.code, counts.get(i.code) ?? { records: 0, distinct: 0, duplicates: 0, malformed: 0, late: 0, files: {} }]));
  for (const i of insts) for (const [rel] of feedFiles(i)) perInst[i.code].files[rel] ??= 0;
  const tot = (k: 'records' | 'duplicates' | 'malformed') => Object.values(perInst).reduce((s, c) => s + c[k], 0);
  writeFileSync(join(dir, 'truth/counts.json'), `${JSON.stringify({ persons: input.persons, households, institutions: perInst }, null, 2)}\n`);
  writeFileSync(join(dir, 'truth/error-rates.json'), `${JSON.stringify(world.rates, null, 2)}\n`);
  return {
    outDir: dir, seed: input.seed, persons: input.persons, households, institutions: insts.length, records: tot('records'), duplicates: tot('duplicates'), malformed: tot('malformed'),
    files: fds.size + 5, bytes, elapsedMs: Math.round(performance.now() - t0),
  };
}
