import { resolve } from 'node:path';

/** Everything the platform reads from its environment, read and validated in one place and passed down. */
export interface Config {
  /** Platform data directory: embedded database, signing keys, admin credential. */
  dataDir: string;
  /** PostgreSQL URL; undefined means the embedded PGlite engine under `dataDir`. */
  databaseUrl?: string;
  /** PostgreSQL schema to live in (default `public`); lets tests and tenants share one server. */
  databaseSchema?: string;
  port: number;
  host: string;
  mllpPort?: number;
  /** Base URL of a running server that CLI commands talk to. */
  serverUrl: string;
  /** Absolute URL clients reach this server by, when behind a proxy; otherwise taken from each request. */
  publicUrl?: string;
  logLevel: string;
  /** Largest accepted request body in bytes (413 above it). FHIR Bundles of a few thousand entries fit in 32 MB. */
  bodyLimitBytes: number;
  /** Lifetime of access tokens issued by /auth/token and /admin/tokens, in seconds. */
  tokenTtlSeconds: number;
  /**
   * Standardization worker loops of this server on PostgreSQL (each its own transactions; the embedded engine always
   * runs one). Undefined: the platform's default (src/api/ingest-runtime.ts).
   */
  ingestWorkers?: number;
  /** Audit checkpoints (src/audit): one every N events and every T seconds (0: none by time); undefined: the defaults. */
  auditCheckpointEvents?: number;
  auditCheckpointSeconds?: number;
}

export interface ConfigInput {
  data?: string;
  server?: string;
  port?: string | number;
  host?: string;
  mllpPort?: string | number;
  ingestWorkers?: string | number;
}

function toPort(value: string | number | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number, got '${value}'`);
  return n;
}

function toPositive(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${value}'`);
  return n;
}

function toCount(value: string | number | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`${name} must be a whole number from 1 to 64, got '${value}'`);
  return n;
}

function toWhole(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number of at least ${min}, got '${value}'`);
  return n;
}

/** Merges command-line options over environment variables over defaults. */
export function loadConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const port = toPort(input.port ?? env.PORT, 'port') ?? 8080;
  const schema = env.HEALTHBRAIN_DB_SCHEMA || undefined;
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`HEALTHBRAIN_DB_SCHEMA '${schema}' is not a plain identifier`);
  return {
    dataDir: resolve(input.data ?? env.HEALTHBRAIN_DATA ?? './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: schema,
    port,
    host: input.host ?? env.HOST ?? '127.0.0.1',
    mllpPort: toPort(input.mllpPort ?? env.MLLP_PORT, 'mllp-port'),
    serverUrl: (input.server ?? env.HEALTHBRAIN_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    publicUrl: env.HEALTHBRAIN_PUBLIC_URL ? env.HEALTHBRAIN_PUBLIC_URL.replace(/\/+$/, '') : undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
    bodyLimitBytes: Math.round(toPositive(env.HEALTHBRAIN_BODY_LIMIT_MB, 'HEALTHBRAIN_BODY_LIMIT_MB', 32) * 1024 * 1024),
    tokenTtlSeconds: Math.round(toPositive(env.HEALTHBRAIN_TOKEN_TTL, 'HEALTHBRAIN_TOKEN_TTL', 3600)),
    ingestWorkers: toCount(input.ingestWorkers ?? env.HEALTHBRAIN_INGEST_WORKERS, 'ingest-workers'),
    auditCheckpointEvents: toWhole(env.HEALTHBRAIN_AUDIT_CHECKPOINT_EVENTS, 'HEALTHBRAIN_AUDIT_CHECKPOINT_EVENTS', 1),
    auditCheckpointSeconds: toWhole(env.HEALTHBRAIN_AUDIT_CHECKPOINT_SECONDS, 'HEALTHBRAIN_AUDIT_CHECKPOINT_SECONDS', 0),
  };
}
