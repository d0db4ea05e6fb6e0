/**
 * Which table a resource type lives in: the Patient compartment (fhir_resource, distributed by patient_key on
 * Citus) or the shared one (fhir_shared_resource, a Citus reference table). Driven by the R4 Patient
 * CompartmentDefinition, not a hand list.
 */
import { isCompartmentType } from './extract.ts';
import type { SearchParamDef } from './search-params.ts';

export type ResourceTable = 'fhir_resource' | 'fhir_shared_resource';

export function tableFor(resourceType: string): ResourceTable {
  return isCompartmentType(resourceType) ? 'fhir_resource' : 'fhir_shared_resource';
}

export function historyTableFor(resourceType: string): string {
  return tableFor(resourceType) + '_history';
}

/** The `param=` prefix a param's values carry in its column ('' for columns dedicated to one kind of value). */
export function extractColumnsPrefix(param: SearchParamDef): string {
  return param.column === 'tokens' || param.column === 'strings' || param.column === 'refs' ? param.code + '=' : '';
}
