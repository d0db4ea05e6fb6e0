-- Search arrays hold NULL rather than '{}' when a resource has no value for them, and each GIN index covers only
-- non-NULL rows: most rows are Observations with no identifier and no name, which then cost those indexes nothing at
-- ingest. A search `col && ARRAY[…]` (a strict operator) implies `col IS NOT NULL`, so the planner still uses them.
UPDATE fhir_resource SET identifiers = NULLIF(identifiers, '{}'), codes = NULLIF(codes, '{}'), categories = NULLIF(categories, '{}'),
  tokens = NULLIF(tokens, '{}'), strings = NULLIF(strings, '{}'), refs = NULLIF(refs, '{}');
UPDATE fhir_shared_resource SET identifiers = NULLIF(identifiers, '{}'), codes = NULLIF(codes, '{}'), categories = NULLIF(categories, '{}'),
  tokens = NULLIF(tokens, '{}'), strings = NULLIF(strings, '{}'), refs = NULLIF(refs, '{}');

DROP INDEX IF EXISTS fhir_resource_identifiers;
DROP INDEX IF EXISTS fhir_resource_codes;
DROP INDEX IF EXISTS fhir_resource_categories;
DROP INDEX IF EXISTS fhir_resource_tokens;
DROP INDEX IF EXISTS fhir_resource_strings;
DROP INDEX IF EXISTS fhir_resource_refs;
DROP INDEX IF EXISTS fhir_shared_resource_identifiers;
DROP INDEX IF EXISTS fhir_shared_resource_codes;
DROP INDEX IF EXISTS fhir_shared_resource_tokens;
DROP INDEX IF EXISTS fhir_shared_resource_strings;
DROP INDEX IF EXISTS fhir_shared_resource_refs;

-- Identifier look-ups are the hot path of conditional upserts: no fast-update pending list to scan (see 0011).
CREATE INDEX fhir_resource_identifiers ON fhir_resource USING gin (identifiers) WITH (fastupdate = off) WHERE identifiers IS NOT NULL;
CREATE INDEX fhir_resource_codes ON fhir_resource USING gin (codes) WITH (gin_pending_list_limit = 256) WHERE codes IS NOT NULL;
CREATE INDEX fhir_resource_categories ON fhir_resource USING gin (categories) WITH (gin_pending_list_limit = 256) WHERE categories IS NOT NULL;
CREATE INDEX fhir_resource_tokens ON fhir_resource USING gin (tokens) WITH (gin_pending_list_limit = 256) WHERE tokens IS NOT NULL;
CREATE INDEX fhir_resource_strings ON fhir_resource USING gin (strings) WITH (gin_pending_list_limit = 256) WHERE strings IS NOT NULL;
CREATE INDEX fhir_resource_refs ON fhir_resource USING gin (refs) WITH (gin_pending_list_limit = 256) WHERE refs IS NOT NULL;
CREATE INDEX fhir_shared_resource_identifiers ON fhir_shared_resource USING gin (identifiers) WITH (fastupdate = off) WHERE identifiers IS NOT NULL;
CREATE INDEX fhir_shared_resource_codes ON fhir_shared_resource USING gin (codes) WITH (gin_pending_list_limit = 256) WHERE codes IS NOT NULL;
CREATE INDEX fhir_shared_resource_tokens ON fhir_shared_resource USING gin (tokens) WITH (gin_pending_list_limit = 256) WHERE tokens IS NOT NULL;
CREATE INDEX fhir_shared_resource_strings ON fhir_shared_resource USING gin (strings) WITH (gin_pending_list_limit = 256) WHERE strings IS NOT NULL;
CREATE INDEX fhir_shared_resource_refs ON fhir_shared_resource USING gin (refs) WITH (gin_pending_list_limit = 256) WHERE refs IS NOT NULL;
