import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AccessPolicy, AuthService } from '../auth/index.ts';
import type { Clock, Config } from '../config/index.ts';
import type { FhirRequest, FhirResponse, RequestContext } from '../fhir/context.ts';
import type { FhirServices } from '../fhir/index.ts';
import type { Db } from '../store/index.ts';

/** The FHIR module as the HTTP layer sees it (see platform.ts for the real wiring). */
export interface FhirPort {
  handle(req: FhirRequest, ctx: RequestContext): Promise<FhirResponse>;
  capabilityStatement(baseUrl: string): Resource | Promise<Resource>;
  /** The FHIR module's one mapping from an outcome to an HTTP status. */
  status(outcome: OperationOutcome): number;
}

/** Everything the app needs, built once by the composition root (platform.ts) and passed down: no singletons. */
export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
  auth: AuthService;
  fhir: FhirPort;
  /** The FHIR module's services (repository, registered operations, access rules), for modules that read or write FHIR. */
  fhirServices: FhirServices;
  /** The access hook run on every authenticated FHIR request (see src/auth/policy.ts). */
  accessPolicies: readonly AccessPolicy[];
}

/**
 * A module's routes: a function given an encapsulated fastify scope and the deps. Content-type parsers and hooks it
 * adds stay inside its scope. Register it in routes.ts (one line).
 */
export type RoutePlugin = (app: FastifyInstance, deps: AppDeps) => void | Promise<void>;
