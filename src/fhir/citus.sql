-- How the FHIR store is distributed on Citus (not a migration: run once by an operator after the migrations, on a
-- Citus coordinator). Single-node PostgreSQL and PGlite never run this file.
--
-- Clinical data (the Patient compartment): sharded by the institution-level Patient, co-located, so that one
-- Patient's record, its history and its search rows live on one shard and `patient=…` searches are router queries.
-- Citus requires the distribution column in every unique index: the primary keys already start with patient_key;
-- the single-node unique index on (resource_type, id) becomes a plain index (ids are server-assigned UUIDs, and the
-- repository locks the current row before writing a new version).
DROP INDEX IF EXISTS fhir_resource_type_id;
CREATE INDEX IF NOT EXISTS fhir_resource_type_id ON fhir_resource (resource_type, id);
SELECT create_distributed_table('fhir_resource', 'patient_key');
SELECT create_distributed_table('fhir_resource_history', 'patient_key', colocate_with => 'fhir_resource');

-- Basic resources outside any Patient compartment (Organization, Practitioner, Location, Medication …): small,
-- read by every shard's joins and includes — replicated to every node.
SELECT create_reference_table('fhir_shared_resource');
SELECT create_reference_table('fhir_shared_resource_history');
