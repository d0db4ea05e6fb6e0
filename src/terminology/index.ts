/**
 * Terminology (issue 4): the standard code systems shipped as data, their in-memory lookup service, per-institution
 * local-code maps (ConceptMap), the unmapped-code work list with suggestions, and UCUM unit normalisation.
 */
export { SYSTEMS, TARGET_SYSTEM, bphsSystem, localSystem, type LocalKind } from './systems.ts';
export { Terminology, type Concept, type Suggestion } from './terminology.ts';
export { loadShippedTerminology } from './store.ts';
export { SHIPPED_RELEASE, shippedConcepts, type ConceptRow } from './shipped.ts';
export { CodeMapper, exportConceptMap, localKey, type CodeFindingKind, type LocalCode, type MapResult, type StandardCoding } from './code-map.ts';
export { checkLoinc, checkSnomed, isStandardSystem, standardSystem, STANDARD_URIS, verhoeffValid } from './standard-systems.ts';
export { confirmMapping, holdKey, holdUnit, listUnmapped, requeueUnits, type Confirmation, type UnmappedCode } from './unmapped.ts';
export { importTerminologyCsv, decodeText, resolveSystem } from './import.ts';
export { importFormat, IMPORT_FORMATS, type ImportFormat, type ImportResult } from './import-formats.ts';
export { normalizeQuantity, toUcum, type NormalizedQuantity, type UnitProblem } from './units.ts';
export { nameFeatures, nameSimilarity, normalizeName } from './similarity.ts';
