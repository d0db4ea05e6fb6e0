import type { Command } from 'commander';
import { configFrom, withGlobalOptions } from '../global-options.ts';

/**
 * `healthbrain demo` (what `npm run demo` runs, issue 6): a small synthetic county generated into the data dir,
 * the server on the embedded database with MLLP, the web console built if needed, every institution's feed ingested
 * through its own channel, standardization drained, the EMPI run — then the URL and a demo sign-in per role are
 * printed and the server keeps serving until Ctrl-C. The steps live in ../demo/ (shared with the e2e test).
 * Re-running on the same data dir reuses the county and what was already ingested.
 */
export function register(program: Command): void {
  withGlobalOptions(
    program
      .command('demo')
      .description('generate a small county, ingest it through the real channels, run the EMPI, serve the console with demo sign-ins')
      .option('--port <n>', 'HTTP port (env PORT, default 8080)')
      .option('--host <host>', 'address to bind (env HOST, default 127.0.0.1)')
      .option('--mllp-port <n>', 'HL7 v2 MLLP port (default: any free port)')
      .option('--persons <n>', 'persons of the synthetic county (first run only)', '2000')
      .option('--seed <n>', 'synthetic county seed (first run only)', '2026')
      .option('--years <n>', 'simulated years up to yesterday, 1–5 (first run only)', '1'),
  ).action(async (opts: Record<string, string | undefined>) => {
    // The demo talks to a person at a terminal: request logs only when asked for (LOG_LEVEL=info).
    const config = { ...configFrom(opts), logLevel: process.env.LOG_LEVEL ?? 'warn' };
    const { runDemo, printDemo } = await import('../demo/index.ts');
    const { defaultEndDate } = await import('../demo/county.ts');
    const int = (k: string) => {
      const v = Number(opts[k]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
      return v;
    };
    const started = performance.now();
    const run = await runDemo({
      config,
      county: { persons: int('persons'), seed: int('seed'), years: int('years'), endDate: defaultEndDate() },
    });
    printDemo(run, (performance.now() - started) / 1000);
  });
}
