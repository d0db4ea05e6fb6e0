import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CountyJson } from '../../synth/index.ts';

/** What the demo generates: a small county, same seed every time, so every demo shows the same people. */
export interface CountySpec {
  persons: number;
  seed: number;
  years: number;
  /** Last simulated day (YYYY-MM-DD). */
  endDate: string;
}

/** Yesterday in China (UTC+8), so the demo's care relationships are recent whenever it is run. */
export function defaultEndDate(now: Date = new Date()): string {
  return new Date(now.getTime() + 8 * 3600_000 - 86_400_000).toISOString().slice(0, 10);
}

/**
 * The county under `dir`: reused when `dir/county.json` exists (a re-run keeps the people it already ingested, whatever
 * the spec says now), generated otherwise with `generateCounty` (progress bar on stderr).
 */
export async function ensureCounty(dir: string, spec: CountySpec, log: (line: string) => void): Promise<{ county: CountyJson; generated: boolean }> {
  const file = join(dir, 'county.json');
  if (existsSync(file) && existsSync(join(dir, 'truth', 'mrns.csv'))) {
    const county = JSON.parse(readFileSync(file, 'utf8')) as CountyJson;
    log(`county: reusing ${dir} (${county.generator.persons} persons, seed ${county.generator.seed})`);
    return { county, generated: false };
  }
  const { generateCounty } = await import('../../synth/index.ts');
  const { progressBar } = await import('../../synth/progress.ts');
  const { rm } = await import('node:fs/promises');
  await rm(dir, { recursive: true, force: true }); // a half-written county from an interrupted run
  const s = await generateCounty({ outDir: dir, persons: spec.persons, seed: spec.seed, years: spec.years, endDate: spec.endDate, onProgress: progressBar('synth') });
  log(`county: ${s.persons} persons, ${s.institutions} institutions, ${s.records.toLocaleString('en-US')} source records → ${dir} (${(s.elapsedMs / 1000).toFixed(1)} s)`);
  return { county: JSON.parse(readFileSync(file, 'utf8')) as CountyJson, generated: true };
}
