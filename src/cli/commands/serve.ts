import type { Command } from 'commander';
import { configFrom, withGlobalOptions } from '../global-options.ts';
import { listeners } from '../listeners.ts';

/**
 * `healthbrain serve`: opens the database (migrating it), starts the HTTP API and every listener of listeners.ts
 * (each adds its own options here, e.g. --mllp-port), prints where it answers, shuts down cleanly on SIGINT / SIGTERM.
 */
export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description('run the platform: FHIR API under /fhir, token endpoint, operator API (env PORT, HEALTHBRAIN_DATA, DATABASE_URL)')
    .option('--port <n>', 'HTTP port (env PORT, default 8080)')
    .option('--host <host>', 'address to bind (env HOST, default 127.0.0.1; 0.0.0.0 for all)')
    .option('--ingest-workers <n>', 'standardization worker loops on PostgreSQL (env HEALTHBRAIN_INGEST_WORKERS; the embedded engine runs 1)');
  for (const l of listeners) for (const o of l.options ?? []) cmd.option(o.flags, o.description);
  withGlobalOptions(cmd).action(async (opts: Record<string, string | undefined>) => {
    const config = configFrom(opts);
    const { startServer } = await import('../server-runtime.ts');
    const { platform, url } = await startServer(config, opts);
    console.log(`HealthBrain serving ${url}/fhir (${platform.deps.db.engine}, data ${config.dataDir})`);
    console.log(`admin credential: ${config.dataDir}/admin.json`);
  });
}
