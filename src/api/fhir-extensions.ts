import { registerEmpiOperations } from '../empi/index.ts';
import type { FhirServices } from '../fhir/index.ts';
import { recordFhirExtension } from '../record/index.ts';
import type { Db } from '../store/index.ts';

/**
 * What other modules add to the FHIR API at start-up: named operations (`Patient/$everything`, `Patient/$ihe-pix`,
 * `Patient/$match` …) via `services.registerOperation(...)` and access rules via `services.accessRules.push(...)`.
 *
 * To add yours: export `(services, db) => void` from your module's public index.ts and add ONE import and ONE entry
 * below. The CapabilityStatement lists registered operations automatically.
 */
export type FhirExtension = (services: FhirServices, db: Db) => void | Promise<void>;

export const fhirExtensions: FhirExtension[] = [registerEmpiOperations, recordFhirExtension];
