import { resolve } from 'node:path';

/** Everything the platform reads from its environment, read and validated in one place and passed down. */
export interface Config {
  /** Platform data directory: embedded database, signing keys, admin credential. */
  dataDir: string;
  /** PostgreSQL URL; undefined means the embedded PGlite engine under `dataDir`. */
  databaseUrl?: string;
  port: number;
  host: string;
  mllpPort?: number;
  /** Base URL of a running server that CLI commands talk to. */
  serverUrl: string;
  logLevel: string;
}

export interface ConfigInput {
  data?: string;
  server?: string;
  port?: string | number;
  host?: string;
  mllpPort?: string | number;
}

function toPort(value: string | number | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got '${value}'`);
  return n;
}

/** Merges command-line options over environment variables over defaults. */
export function loadConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const port = toPort(input.port ?? env.PORT, 'port') ?? 8080;
  return {
    dataDir: resolve(input.data ?? env.HEALTHBRAIN_DATA ?? './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    port,
    host: input.host ?? env.HOST ?? '127.0.0.1',
    mllpPort: toPort(input.mllpPort ?? env.MLLP_PORT, 'mllp-port'),
    serverUrl: (input.server ?? env.HEALTHBRAIN_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
