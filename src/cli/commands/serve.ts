import type { Command } from 'commander';
import { configFrom, withGlobalOptions } from '../global-options.ts';
import { listeners, type Running } from '../listeners.ts';

/**
 * `healthbrain serve`: opens the database (migrating it), starts the HTTP API and every listener of listeners.ts,
 * prints where it answers, and shuts down cleanly on SIGINT / SIGTERM.
 */
export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description('run the platform: FHIR API under /fhir, token endpoint, operator API (env PORT, HEALTHBRAIN_DATA, DATABASE_URL)')
    .option('--port <n>', 'HTTP port (env PORT, default 8080)')
    .option('--host <host>', 'address to bind (env HOST, default 127.0.0.1; 0.0.0.0 for all)');
  for (const l of listeners) for (const o of l.options ?? []) cmd.option(o.flags, o.description);
  withGlobalOptions(cmd).action(async (opts: Record<string, string | undefined>) => {
    const config = configFrom(opts);
    const { openPlatform } = await import('../../api/index.ts');
    const platform = await openPlatform(config);
    const running: Running[] = [];
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      platform.deps.logger.info({ signal }, 'shutting down');
      for (const r of running.reverse()) await r.close().catch((err) => platform.deps.logger.error({ err }, 'listener close failed'));
      await platform.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
    try {
      await platform.app.listen({ port: config.port, host: config.host });
      for (const l of listeners) {
        const r = await l.start(platform.deps, opts);
        if (r) {
          running.push(r);
          if (r.description) console.log(`${l.name}: ${r.description}`);
        }
      }
    } catch (err) {
      await stop('startup failure').catch(() => undefined);
      throw err;
    }
    const addr = platform.app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    console.log(`HealthBrain serving http://${host}:${port}/fhir (${platform.deps.db.engine}, data ${config.dataDir})`);
    console.log(`admin credential: ${config.dataDir}/admin.json`);
  });
}
