/** Synthetic county generator (issue 3): a Chinese county, its institutions' messy feeds, and the ground truth. */
export type {
  CountyJson,
  CsvDialect,
  Division,
  FeedChannel,
  FeedFormat,
  Hl7Profile,
  Institution,
  InstitutionType,
  SynthSummary,
  Township,
  Village,
} from './county-types.ts';
export type { ErrorRates, SynthOptions } from './options.ts';
export { DEFAULT_ERROR_RATES } from './options.ts';
export { generateCounty } from './generate.ts';
export { TRUTH_SYSTEMS, type TruthCode, type TruthRecord, type InstCounts } from './output.ts';
