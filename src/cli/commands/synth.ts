import type { Command } from 'commander';
import { withGlobalOptions } from '../global-options.ts';

/**
 * `healthbrain synth --persons N --seed S --out DIR`: generates the synthetic county (issue 3) — county.json, the
 * feeds of every institution and the ground truth. Same options → byte-identical output. Progress on stderr,
 * summary (JSON) on stdout.
 */
export function register(program: Command): void {
  withGlobalOptions(
    program
      .command('synth')
      .description('generate a synthetic county: institutions\' messy feeds plus ground truth (docs/SYNTH.md)')
      .requiredOption('--out <dir>', 'output directory (absent or empty)')
      .option('--persons <n>', 'persons ever resident in the period', '20000')
      .option('--seed <n>', 'PRNG seed', '1')
      .option('--years <n>', 'simulated years, 1–5', '3')
      .option('--end-date <yyyy-mm-dd>', 'last simulated day', '2025-12-31')
      .option('--error-rates <file>', 'JSON file overriding error rates (keys as in truth/error-rates.json)')
      .option('--workers <n>', 'worker threads (output does not depend on it)')
      .option('--no-progress', 'no progress bar'),
  ).action(async (opts: Record<string, string | boolean | undefined>) => {
    const { readFileSync } = await import('node:fs');
    const { generateCounty } = await import('../../synth/index.ts');
    const { progressBar } = await import('../../synth/progress.ts');
    const int = (k: string) => {
      const v = Number(opts[k]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`--${k} must be a non-negative integer`);
      return v;
    };
    const summary = await generateCounty({
      outDir: String(opts.out),
      persons: int('persons'),
      seed: int('seed'),
      years: int('years'),
      endDate: String(opts.endDate),
      errorRates: opts.errorRates ? JSON.parse(readFileSync(String(opts.errorRates), 'utf8')) : undefined,
      workers: opts.workers === undefined ? undefined : int('workers'),
      onProgress: opts.progress === false ? undefined : progressBar('synth'),
    });
    console.log(JSON.stringify(summary, null, 2));
  });
}
