-- Access (issue 10): which versions a PERSON wrote through the FHIR API (a clinician's or operator's POST/PUT), as
-- opposed to what an institution submitted (its system, through ingestion or the API). The care-relationship query
-- (src/access/relationship.ts) counts only the latter, so a clinician cannot create a relationship by posting an
-- Encounter. A constant default: no table rewrite on PostgreSQL 11+.
ALTER TABLE fhir_resource ADD COLUMN IF NOT EXISTS user_written boolean NOT NULL DEFAULT false;
ALTER TABLE fhir_resource_history ADD COLUMN IF NOT EXISTS user_written boolean NOT NULL DEFAULT false;
ALTER TABLE fhir_shared_resource ADD COLUMN IF NOT EXISTS user_written boolean NOT NULL DEFAULT false;
ALTER TABLE fhir_shared_resource_history ADD COLUMN IF NOT EXISTS user_written boolean NOT NULL DEFAULT false;
