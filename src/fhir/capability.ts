/**
 * The CapabilityStatement (https://hl7.org/fhir/R4/capabilitystatement.html) served at `metadata`, generated from the
 * same declarations the router and the search use: resource types from the R4 definitions, search parameters and
 * includes from search-params.ts, operations from the services' registry. It lists exactly what is supported.
 */
import type { CapabilityStatement, CapabilityStatementRestResource, ResourceType } from '@medplum/fhirtypes';
import { r4 } from './definitions.ts';
import { paramsOf } from './search-parse.ts';
import { COMMON_PARAMS, SEARCH_PARAMS, SORTS } from './search-params.ts';
import type { FhirServices } from './services.ts';

const INTERACTIONS = ['read', 'vread', 'update', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const;

/** Builds the server's CapabilityStatement for clients reaching it at `baseUrl`. */
export function buildCapabilityStatement(baseUrl: string, services: FhirServices): CapabilityStatement {
  const types = [...r4().resourceTypes].sort();
  const resource: CapabilityStatementRestResource[] = types.map((type) => {
    const params = [...paramsOf(type).values()];
    const refParams = params.filter((p) => p.type === 'reference');
    const revIncludes = SEARCH_PARAMS.filter((p) => p.type === 'reference' && p.targets?.includes(type)).flatMap((p) =>
      [...new Set(p.paths.map((path) => path.split('.')[0]))].map((source) => `${source}:${p.code}`),
    );
    const ops = [...services.operations.values()].filter((o) => o.resourceType === type);
    return {
      type: type as ResourceType,
      profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
      interaction: INTERACTIONS.map((code) => ({ code })),
      versioning: 'versioned',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: true,
      conditionalRead: 'not-supported',
      conditionalUpdate: true,
      conditionalDelete: 'single',
      searchInclude: refParams.length ? [...refParams.map((p) => `${type}:${p.code}`), ...refParams.map((p) => `*:${p.code}`)] : undefined,
      searchRevInclude: revIncludes.length ? revIncludes : undefined,
      searchParam: [
        ...COMMON_PARAMS.map((p) => ({ name: p.code, type: p.type, documentation: p.description })),
        ...params.map((p) => ({ name: p.code, type: p.type, documentation: p.description + (SORTS[p.code] ? ' (sortable)' : '') })),
      ],
      operation: ops.length ? ops.map((o) => ({ name: o.name, definition: o.definition ?? `${baseUrl}/OperationDefinition/${type}-${o.name}` })) : undefined,
    };
  });
  const systemOps = [...services.operations.values()].filter((o) => o.resourceType === '*');
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: services.repo.clock().toISOString().slice(0, 10),
    kind: 'instance',
    software: { name: 'HealthBrain' },
    implementation: { description: 'HealthBrain regional health information platform FHIR R4 server', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          cors: false,
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          description: 'Bearer token (JWT) with SMART scopes, e.g. system/*.read, system/*.write, user/Patient.rs',
        },
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        operation: systemOps.length ? systemOps.map((o) => ({ name: o.name, definition: o.definition ?? `${baseUrl}/OperationDefinition/${o.name}` })) : undefined,
      },
    ],
  };
}
