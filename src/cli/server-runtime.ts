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
 * Starts what `healthbrain serve` runs: the platform (database migrated, keys loaded), HTTP on config.host:port, then
 * every listener of listeners.ts with the same deps. Stops everything on SIGINT / SIGTERM and exits 0.
 * `opts` are the command's parsed options (listeners read their own from it).
 */
export async function startServer(config: Config, opts: Record<string, unknown>, options: { plugins?: readonly RoutePlugin[] } = {}): Promise<RunningServer> {
  const { openPlatform, routePlugins } = await import('../api/index.ts');
  const platform = await openPlatform(config, { plugins: options.plugins ?? routePlugins });
  const running: Running[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) =>
    (stopping ??= (async () => {
      platform.deps.logger.info({ reason }, 'shutting down');
      for (const r of running.reverse()) await r.close().catch((err) => platform.deps.logger.error({ err }, 'listener close failed'));
      await platform.close();
    })());
  const onSignal = (signal: string) => void stop(signal).finally(() => process.exit(0));
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
