import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/index.ts';

/** Every command accepts the same two global options (issue 2): the data directory and a running server. */
export function withGlobalOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'platform data directory (env HEALTHBRAIN_DATA)', undefined)
    .option('--server <url>', 'running server to talk to (default http://127.0.0.1:8080)', undefined);
}

export function configFrom(opts: { data?: string; server?: string; port?: string; mllpPort?: string; host?: string; ingestWorkers?: string }): Config {
  return loadConfig(opts);
}
