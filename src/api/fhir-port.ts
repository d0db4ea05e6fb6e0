import { buildCapabilityStatement, handleFhirRequest, outcomeStatus, type FhirServices } from '../fhir/index.ts';
import type { FhirPort } from './deps.ts';

/** The FHIR module (src/fhir) behind the port the HTTP layer calls. */
export function fhirPort(services: FhirServices): FhirPort {
  return {
    handle: (req, ctx) => handleFhirRequest(req, ctx, services),
    capabilityStatement: (baseUrl) => buildCapabilityStatement(baseUrl, services),
    status: outcomeStatus,
  };
}
