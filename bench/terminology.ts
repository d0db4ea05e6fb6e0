/**
 * `npm run bench -- terminology [--persons N] [--seed S] [--county DIR]`: the top-1/top-3 accuracy of the standard-code
 * suggestions for every local code of a synthetic county (truth/code-map.csv), and the precision of the automatic
 * mappings (standard code or exact name). Generates the county in a temp directory unless --county is given.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCounty } from '../src/synth/index.ts';
import { shippedConcepts, Terminology } from '../src/terminology/index.ts';
import { evaluateSuggestions } from '../src/terminology/evaluate.ts';

export async function run(args: string[]): Promise<void> {
  const opt = (name: string, def?: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
  };
  let dir = opt('county');
  const tmp = dir ? undefined : mkdtempSync(join(tmpdir(), 'hb-county-'));
  if (!dir) {
    dir = tmp!;
    await generateCounty({ persons: Number(opt('persons', '2000')), seed: Number(opt('seed', '1')), outDir: dir });
  }
  const t0 = performance.now();
  const t = Terminology.fromConcepts(shippedConcepts());
  const rows = evaluateSuggestions(t, join(dir, 'truth', 'code-map.csv'));
  const ms = performance.now() - t0;
  const pct = (n: number, d: number) => (d ? ((100 * n) / d).toFixed(1) + '%' : '-');
  console.log(['kind', 'local codes', 'top-1', 'top-3', 'auto-mapped', 'auto wrong'].join('\t'));
  for (const r of rows) console.log([r.kind, r.codes, pct(r.top1, r.codes), pct(r.top3, r.codes), pct(r.auto, r.codes), r.autoWrong].join('\t'));
  console.log(`(${rows.at(-1)!.codes} local codes ranked in ${ms.toFixed(0)} ms)`);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
