import type { Platform, RoutePlugin } from '../api/index.ts';
import type { Config } from '../config/index.ts';
import { listeners, type Running } from './listeners.ts';

export interface RunningServer {
  platform: Platform;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  stop(reason: string): Promise<void>;
}

/**
 * Shutdown bounds, ms. In-flight requests get `graceMs` to finish (uploads stop at their next chunk with 503, the
 * worker after its current batch, which commits or rolls back whole); then every connection still open is closed (a
 * sender that stopped sending mid-body no longer holds the server). A shutdown not done by `timeoutMs` (a database
 * that does not answer) ends the process with status 1: an unfinished transaction is rolled back by the engine.
 */
export const SHUTDOWN = { graceMs: 5_000, timeoutMs: 20_000 };

/**
 * Starts what `healthbrain serve` runs: the platform (database migrated, keys loaded), HTTP on config.host:port, then
 * every listener of listeners.ts with the same deps. On SIGINT / SIGTERM: stops accepting (listeners, then HTTP),
 * finishes or rolls back the worker's batch, closes the database and exits 0, all within SHUTDOWN's bounds; a second
 * signal ends the process at once. `opts` are the command's parsed options (listeners read their own from it).
 */
export async function startServer(config: Config, opts: Record<string, unknown>, options: { plugins?: readonly RoutePlugin[] } = {}): Promise<RunningServer> {
  const { openPlatform, routePlugins } = await import('../api/index.ts');
  const platform = await openPlatform(config, { plugins: options.plugins ?? routePlugins });
  const running: Running[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) =>
    (stopping ??= (async () => {
      platform.deps.logger.info({ reason }, 'shutting down');
      const started = Date.now();
      for (const r of running.reverse()) await r.close().catch((err) => platform.deps.logger.error({ err }, 'listener close failed'));
      // Fastify's close waits for in-flight requests; past the grace, the connections still open are closed under them.
      const force = setTimeout(() => platform.app.server.closeAllConnections(), Math.max(0, SHUTDOWN.graceMs - (Date.now() - started)));
      try {
        await platform.close();
      } finally {
        clearTimeout(force);
      }
      platform.deps.logger.info({ reason, ms: Date.now() - started }, 'shut down');
    })());
  const onSignal = (signal: string) => {
    const timer = setTimeout(() => {
      platform.deps.logger.error({ signal, timeoutMs: SHUTDOWN.timeoutMs }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, SHUTDOWN.timeoutMs);
    timer.unref();
    stop(signal).then(
      () => process.exit(0),
      (err) => {
        platform.deps.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
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
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return { platform, url: `http://${host}:${port}`, stop };
}
