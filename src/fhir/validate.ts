/**
 * Validation of every incoming resource against the FHIR R4 StructureDefinitions with @medplum/core's
 * `validateResource` (https://hl7.org/fhir/R4/validation.html), plus the required terminology bindings it skips.
 * Structure problems (unknown element, bad date, wrong cardinality) → 400; a code outside a required value set → 422
 * (the resource parses, but violates the base profile's binding rule).
 */
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { checkRequiredBindings } from './bindings.ts';
import { r4 } from './definitions.ts';
import { badRequest, fail, invalid, unprocessable } from './outcomes.ts';

/**
 * Checks that `body` is a valid R4 resource (of `expectedType` when given) and returns it typed; throws an
 * OperationOutcomeError (400 or 422, with issue expressions) otherwise.
 */
export function validateIncoming(body: unknown, expectedType?: string): Resource {
  if (!body || typeof body !== 'object' || Array.isArray(body)) fail(badRequest('Body is not a FHIR resource (expected a JSON object)'));
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string' || !r4().resourceTypes.has(resourceType)) {
    fail(badRequest(`Unknown resourceType ${JSON.stringify(resourceType)}`, 'resourceType'));
  }
  if (expectedType && resourceType !== expectedType) {
    fail(badRequest(`resourceType ${resourceType} does not match the URL's ${expectedType}`, 'resourceType'));
  }
  const resource = body as Resource;
  try {
    const issues = validateResource(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (issues.length) fail(invalid(issues));
  } catch (err) {
    if (err instanceof OperationOutcomeError) fail(invalid(err.outcome.issue));
    throw err;
  }
  const bindingIssues = checkRequiredBindings(resource);
  if (bindingIssues.length) fail(unprocessable(bindingIssues));
  return resource;
}
