/**
 * `npm run bench -- synth [--persons 1000000] [--seed 1] [--workers 2] [--out DIR] [--keep]`: generates a county
 * and prints wall time, persons/s, records/s, bytes written and peak RSS (worker threads included: they share the
 * process). The physical limit named is the disk's sequential write speed, measured first with a 256 MiB write.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCounty } from '../src/synth/index.ts';
import { progressBar } from '../src/synth/progress.ts';

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function run(args: string[]): Promise<void> {
  const persons = Number(arg(args, 'persons') ?? 1_000_000);
  const seed = Number(arg(args, 'seed') ?? 1);
  const workers = arg(args, 'workers') === undefined ? undefined : Number(arg(args, 'workers'));
  const base = arg(args, 'out') ?? mkdtempSync(join(tmpdir(), 'bench-synth-'));
  const out = join(base, 'county');

  const probe = join(base, 'disk-probe.bin');
  const buf = Buffer.alloc(256 * 1024 * 1024, 7);
  const t = performance.now();
  writeFileSync(probe, buf, { flush: true });
  const diskMBs = 256 / ((performance.now() - t) / 1000);
  rmSync(probe);

  const cpu0 = process.cpuUsage();
  const s = await generateCounty({ outDir: out, persons, seed, workers, onProgress: progressBar('synth') });
  // CPU time of every thread of the process: on a shared machine it says what the wall time would be on idle cores.
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const secs = s.elapsedMs / 1000;
  const rssMB = process.resourceUsage().maxRSS / 1024;
  const mbs = s.bytes / 1e6 / secs;
  console.log(`synth ${persons.toLocaleString('en-US')} persons, seed ${seed}, workers ${workers ?? 'auto'}`);
  console.log(`  time          ${secs.toFixed(1)} s`);
  console.log(`  persons/s     ${Math.round(persons / secs).toLocaleString('en-US')}`);
  console.log(`  CPU           ${cpuSecs.toFixed(0)} s (all threads) → ${(cpuSecs / 2).toFixed(0)} s on 2 idle cores; load average now ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
  console.log(`  records       ${s.records.toLocaleString('en-US')} (${Math.round(s.records / secs).toLocaleString('en-US')}/s), ${s.duplicates.toLocaleString('en-US')} duplicates, ${s.malformed.toLocaleString('en-US')} malformed`);
  console.log(`  bytes         ${(s.bytes / 1e9).toFixed(2)} GB in ${s.files} files (${mbs.toFixed(0)} MB/s; disk sequential write ${diskMBs.toFixed(0)} MB/s → ${((100 * mbs) / diskMBs).toFixed(0)}% of the limit)`);
  console.log(`  peak RSS      ${rssMB.toFixed(0)} MB`);
  if (!args.includes('--keep')) rmSync(base, { recursive: true, force: true });
  else console.log(`  output kept in ${out}`);
}
