/**
 * What the FHIR router needs, built once by the app factory and passed down (no module singletons): the repository,
 * the named operations other modules register (`Patient/$everything`, `$ihe-pix`, `$match` …) and the access rules
 * later issues add.
 */
import type { Db } from '../store/index.ts';
import type { AccessRule } from './access.ts';
import type { FhirRequest, FhirResponse, RequestContext } from './context.ts';
import { FhirRepository, type Clock } from './repository.ts';

/** Where an operation is invoked (https://hl7.org/fhir/R4/operations.html): `[base]/$op`, `Type/$op`, `Type/id/$op`. */
export interface OperationTarget {
  resourceType?: string;
  id?: string;
}

export type OperationHandler = (req: FhirRequest, ctx: RequestContext, services: FhirServices, target: OperationTarget) => Promise<FhirResponse>;

export interface OperationRegistration {
  resourceType: string; // '*' for a system-level operation
  name: string; // without '$'
  handler: OperationHandler;
  /** Scope needed: 'read' (default) or 'write'. */
  access: 'read' | 'write';
  /** Canonical URL of its OperationDefinition, for the CapabilityStatement. */
  definition?: string;
  /** Whether it is invoked on an instance (Type/id/$op) as well as on the type. */
  instance: boolean;
}

export interface FhirServices {
  repo: FhirRepository;
  operations: Map<string, OperationRegistration>;
  accessRules: AccessRule[];
  /** Called with every unexpected error (answered as a 500 OperationOutcome without details): the app logs it. */
  onError?: (err: unknown, req: FhirRequest) => void;
  /** Registers `[resourceType]/$name` (resourceType '*' = system level). A later registration replaces an earlier one. */
  registerOperation(
    resourceType: string,
    name: string,
    handler: OperationHandler,
    options?: { access?: 'read' | 'write'; definition?: string; instance?: boolean },
  ): void;
}

/** Builds the services the FHIR router runs on. */
export function createFhirServices(deps: { db: Db; clock?: Clock; accessRules?: AccessRule[]; onError?: (err: unknown, req: FhirRequest) => void }): FhirServices {
  const operations = new Map<string, OperationRegistration>();
  const services: FhirServices = {
    repo: new FhirRepository(deps.db, deps.clock),
    operations,
    accessRules: deps.accessRules ?? [],
    onError: deps.onError,
    registerOperation(resourceType, name, handler, options = {}) {
      const op = name.replace(/^\$/, '');
      operations.set(`${resourceType}/$${op}`, {
        resourceType, name: op, handler, access: options.access ?? 'read', definition: options.definition, instance: options.instance ?? false,
      });
    },
  };
  return services;
}
