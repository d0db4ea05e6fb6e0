import { adminRoutes } from './admin-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { authRoutes } from './auth-routes.ts';
import { empiRoutes } from './empi-routes.ts';
import type { RoutePlugin } from './deps.ts';
import { fhirRoutes } from './fhir-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { ingestRoutes } from './ingest-routes.ts';
import { keyRoutes } from './key-routes.ts';
import { recordRoutes } from './record-routes.ts';
import { terminologyRoutes } from './terminology-routes.ts';
import { webRoutes } from './web-routes.ts';

/**
 * Every route plugin the app registers, each in its own encapsulated scope. A module adds its HTTP face with ONE
 * import and ONE entry here: a file `src/api/<module>-routes.ts` exporting a RoutePlugin that calls its domain's
 * public index.ts, uses `requireOperator(deps)` / `requireActor(deps)` from authenticate.ts as preHandler, throws
 * HttpError / AuthError / OperationOutcomeError for errors, and may add its own content-type parsers (HL7, CSV).
 */
export const routePlugins: RoutePlugin[] = [healthRoutes, authRoutes, adminRoutes, auditRoutes, empiRoutes, fhirRoutes, ingestRoutes, keyRoutes, terminologyRoutes, recordRoutes, webRoutes];
