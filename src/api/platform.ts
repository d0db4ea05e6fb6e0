import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import {
  createAuthService,
  defaultPolicies,
  loadOrCreateAdminCredential,
  loadOrCreateSigningKeys,
  type AccessPolicy,
  type AdminCredential,
  type SigningKeys,
} from '../auth/index.ts';
import { systemClock, type Clock, type Config } from '../config/index.ts';
import { openDb, type Db } from '../store/index.ts';
import { auditLogFor, checkpointFilePath } from '../audit/index.ts';
import { buildApp } from './app.ts';
import { lockDataDir } from './data-lock.ts';
import type { AppDeps, FhirPort, RoutePlugin } from './deps.ts';
import { createFhirServices } from '../fhir/index.ts';
import { fhirExtensions } from './fhir-extensions.ts';
import { fhirPort } from './fhir-port.ts';
import { protectLegacyEmpiRows } from '../empi/index.ts';

export interface PlatformOptions {
  /** An already open, migrated database (tests); otherwise opened from the config and closed with the platform. */
  db?: Db;
  logger?: Logger;
  clock?: Clock;
  /** In-memory keys (tests); otherwise `<dataDir>/keys/`. */
  keys?: SigningKeys;
  admin?: AdminCredential;
  fhir?: FhirPort;
  accessPolicies?: readonly AccessPolicy[];
  plugins?: readonly RoutePlugin[];
}

export interface Platform {
  deps: AppDeps;
  app: FastifyInstance;
  /** Closes the app, then the database if the platform opened it. */
  close(): Promise<void>;
}

/**
 * The platform's logger: pino JSON lines on stdout at the configured level. Requests are logged by path only: query
 * strings carry identifiers and names (`?identifier=…`), which have no place in logs.
 */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.logLevel,
    base: { service: 'healthbrain' },
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, path: req.url?.split('?')[0], remoteAddress: req.ip }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The composition root: opens the database (running migrations), loads or creates the signing key and admin
 * credential in the data directory, wires the domain services and builds the app. `serve`, the CLI's in-process
 * transport and end-to-end tests all start the platform through here, so they run the same code.
 */
export async function openPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const ownDb = !options.db;
  const unlock = ownDb && !config.databaseUrl ? lockDataDir(config.dataDir) : () => undefined;
  let db: Db;
  try {
    db = options.db ?? (await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.databaseSchema }));
  } catch (err) {
    unlock();
    throw err;
  }
  try {
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? createLogger(config);
    const keys = options.keys ?? (await loadOrCreateSigningKeys(config.dataDir));
    const admin = options.admin ?? loadOrCreateAdminCredential(config.dataDir);
    const auth = createAuthService({ db, keys, admin, clock, ttlSeconds: config.tokenTtlSeconds });
    // EMPI rows written before encryption at rest get their ciphertexts and keyed forms (a no-op once done).
    await protectLegacyEmpiRows(db);
    const fhirServices = createFhirServices({ db, clock: () => clock.now() });
    for (const extend of fhirExtensions) await extend(fhirServices, db);
    const fhir = options.fhir ?? fhirPort(fhirServices);
    const accessPolicies = options.accessPolicies ?? defaultPolicies;
    const deps: AppDeps = { config, db, logger, clock, auth, fhir, fhirServices, accessPolicies };
    // Signed audit checkpoints (issue 10): in the table and the data directory's append-only file, every N events,
    // every T seconds and at close; an old unkeyed chain is sealed here before the first keyed link.
    const audit = auditLogFor(db);
    await audit.useCheckpoints({
      file: checkpointFilePath(config.dataDir), everyEvents: config.auditCheckpointEvents, everySeconds: config.auditCheckpointSeconds,
      onError: (err) => logger.error({ err }, 'audit checkpoint failed'),
    });
    const app = await buildApp(deps, options.plugins);
    return {
      deps,
      app,
      async close() {
        await app.close();
        await audit.stopCheckpoints();
        if (ownDb) await db.close();
        unlock();
      },
    };
  } catch (err) {
    if (ownDb) await db.close();
    unlock();
    throw err;
  }
}
