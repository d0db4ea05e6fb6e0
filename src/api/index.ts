// The HTTP layer: thin. Parse, authenticate, call the domain, serialise.
export { buildApp } from './app.ts';
export { authenticate, bearerToken, requireAccess, requireActor, requireOperator, requireRoles } from './authenticate.ts';
export type { AppDeps, FhirPort, RoutePlugin } from './deps.ts';
export { fhirExtensions, type FhirExtension } from './fhir-extensions.ts';
export { HTTP_ERRORS, HttpError, httpOutcome, type HttpErrorCode } from './errors.ts';
export { createLogger, openPlatform, type Platform, type PlatformOptions } from './platform.ts';
export { routePlugins } from './routes.ts';
