// Ingestion (issue 4): channels → verbatim landing store → work queue → standardization seam.
export type { Channel, LandedUnit, LandResult, QuarantineReason, ResourceWriter, StandardizeResult, Standardizer, UnitInput, UnitStatus } from './types.ts';
export { landingSource } from './types.ts';
export { contentHash, LandingBatcher, landUnits } from './landing.ts';
export { drainQueue, IngestWorker, quarantineWithoutStandardizer, standardizeBatch, type BatchAware, type BatchEnd, type WorkerOptions } from './worker.ts';
export { feedCounts, feedSummaries, type FeedCount, type FeedSummary } from './counts.ts';
export { listQuarantine, quarantineSummary, reprocess, type QuarantinedUnit, type QuarantineFilter } from './quarantine.ts';
export { decodeText, decodeUnit, detectEncoding } from './encoding.ts';
export { addHl7Sender, Hl7SenderError, listHl7Senders, removeHl7Sender, SenderRegistry, type Hl7Sender, type Hl7SenderInput } from './hl7/senders.ts';
export { acceptHl7, HL7_CONTENT_TYPE, SUPPORTED_TYPES, SUPPORTED_VERSIONS, type Hl7Reply } from './hl7/accept.ts';
export { splitMessages } from './hl7/frames.ts';
export { DEFAULT_IDLE_MS, startMllpServer, type MllpServer, type MllpServerOptions, type MllpTls } from './hl7/mllp-server.ts';
export { MllpCounters, type MllpCountersJson } from './hl7/mllp-counters.ts';
export { createIngest, UPLOAD_GATE, type Ingest, type IngestOptions } from './service.ts';
export { Turns, UploadGate, type GateOptions } from './admission.ts';
export { hl7Chunks, Hl7MessageTooLarge, receiveHl7Upload, type Hl7UploadResult } from './hl7-upload.ts';
export { CsvColumnsError, CSV_CONTENT_TYPE, ingestCsv, tableFor, type CsvIngestOptions, type CsvSummary } from './csv/ingest-csv.ts';
export { parseCsvUnit, type CsvRow } from './csv/parse-unit.ts';
export { DATE_FORMATS, detectDateFormat, parseDate } from './csv/dates.ts';
export {
  AHEAD_CAP, duplicateBundleResponse, fhirUnitState, isIngestBundle, landFhirBundle, RESPOND_ASYNC, settleFhirBundle, storedEntries, unitStatusReport,
  type FhirLanding, type StoredEntry, type UnitStatusReport,
} from './fhir-channel.ts';
