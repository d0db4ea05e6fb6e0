-- What each source record of a standardized unit became (issue 4, FHIR asynchronous ingest): for a FHIR Bundle, one
-- element per posted entry, in order — 'Type/id' of the stored standardized resource, or null for an entry that is
-- not stored (Organization, Practitioner …). Written in the statement that moves the unit to 'standardized' (the
-- FHIR request's, or the worker's one status update per batch), so the status URL of a `Prefer: respond-async`
-- Bundle can answer the transaction-response the synchronous path would have (versions are read from the history by
-- meta.source). NULL for every other unit, and for units standardized before this column existed.
ALTER TABLE landed_unit ADD COLUMN IF NOT EXISTS entry_refs jsonb;
