-- FHIR R4 resource store (module fhir, issue 2 items 3–4).
--
-- Two families of tables with the same columns:
--   fhir_resource / fhir_resource_history: resources in the Patient compartment (Patient itself and every
--     clinical resource). On Citus: distributed by patient_key and co-located, so one person-at-one-institution's
--     record lives on one shard. Every primary key therefore starts with patient_key.
--   fhir_shared_resource / fhir_shared_resource_history: resources outside any Patient compartment (Organization,
--     Practitioner, Location, Medication …). Small and read everywhere: on Citus a reference table.
--
-- patient_key: the id of the institution-level Patient that the resource's subject/patient reference names (a
-- Patient's own id for a Patient; '' for a compartment resource that names no Patient). Which Patients are one
-- person is NOT stored here: that is the EMPI identity layer, resolved at query time.
--
-- Search columns hold prefixed tokens so that one GIN index serves many parameters:
--   identifiers  'system|value' and 'value'                  (identifier)
--   codes        'system|code' and 'code'                    (code, vaccine-code, …)
--   categories   'system|code' and 'code'                    (category, class)
--   tokens       'param=system|code' and 'param=code'        (every other token param: status, gender, telecom …)
--   strings      'param=prefix' for each prefix of each name part, lower-cased (name, family, given)
--   refs         'param=Type/id' for each outgoing reference  (reference search, _include, _revinclude)
--   date_lo/hi   the range a date parameter's value covers    (date, birthdate)

CREATE TABLE IF NOT EXISTS fhir_resource (
  patient_key     text        NOT NULL,
  resource_type   text        NOT NULL,
  id              text        NOT NULL,
  version_id      integer     NOT NULL,
  last_updated    timestamptz NOT NULL,
  deleted         boolean     NOT NULL DEFAULT false,
  institution_id  text,
  content         jsonb       NOT NULL,
  status          text,
  identifiers     text[],
  codes           text[],
  categories      text[],
  tokens          text[],
  strings         text[],
  refs            text[],
  date_lo         timestamptz,
  date_hi         timestamptz,
  PRIMARY KEY (patient_key, resource_type, id)
);
-- Read by id. Single node: unique, so the id of a resource is unique per type whatever its patient_key.
-- On Citus a unique index must contain the distribution column: there it is created non-unique, and uniqueness rests
-- on server-assigned UUIDs plus the repository's check-then-write under a row lock.
CREATE UNIQUE INDEX IF NOT EXISTS fhir_resource_type_id ON fhir_resource (resource_type, id);
CREATE INDEX IF NOT EXISTS fhir_resource_patient ON fhir_resource (resource_type, patient_key, date_lo);
CREATE INDEX IF NOT EXISTS fhir_resource_updated ON fhir_resource (resource_type, last_updated, id);
CREATE INDEX IF NOT EXISTS fhir_resource_date ON fhir_resource (resource_type, date_lo, id);
CREATE INDEX IF NOT EXISTS fhir_resource_identifiers ON fhir_resource USING gin (identifiers);
CREATE INDEX IF NOT EXISTS fhir_resource_codes ON fhir_resource USING gin (codes);
CREATE INDEX IF NOT EXISTS fhir_resource_categories ON fhir_resource USING gin (categories);
CREATE INDEX IF NOT EXISTS fhir_resource_tokens ON fhir_resource USING gin (tokens);
CREATE INDEX IF NOT EXISTS fhir_resource_strings ON fhir_resource USING gin (strings);
CREATE INDEX IF NOT EXISTS fhir_resource_refs ON fhir_resource USING gin (refs);

-- Every version, including deletions (deleted = true, content = the last live content).
CREATE TABLE IF NOT EXISTS fhir_resource_history (
  patient_key     text        NOT NULL,
  resource_type   text        NOT NULL,
  id              text        NOT NULL,
  version_id      integer     NOT NULL,
  last_updated    timestamptz NOT NULL,
  deleted         boolean     NOT NULL DEFAULT false,
  institution_id  text,
  content         jsonb       NOT NULL,
  PRIMARY KEY (patient_key, resource_type, id, version_id)
);
CREATE INDEX IF NOT EXISTS fhir_resource_history_id ON fhir_resource_history (resource_type, id, version_id);
CREATE INDEX IF NOT EXISTS fhir_resource_history_updated ON fhir_resource_history (resource_type, last_updated);

CREATE TABLE IF NOT EXISTS fhir_shared_resource (
  patient_key     text        NOT NULL DEFAULT '',
  resource_type   text        NOT NULL,
  id              text        NOT NULL,
  version_id      integer     NOT NULL,
  last_updated    timestamptz NOT NULL,
  deleted         boolean     NOT NULL DEFAULT false,
  institution_id  text,
  content         jsonb       NOT NULL,
  status          text,
  identifiers     text[],
  codes           text[],
  categories      text[],
  tokens          text[],
  strings         text[],
  refs            text[],
  date_lo         timestamptz,
  date_hi         timestamptz,
  PRIMARY KEY (resource_type, id)
);
CREATE INDEX IF NOT EXISTS fhir_shared_resource_updated ON fhir_shared_resource (resource_type, last_updated, id);
CREATE INDEX IF NOT EXISTS fhir_shared_resource_identifiers ON fhir_shared_resource USING gin (identifiers);
CREATE INDEX IF NOT EXISTS fhir_shared_resource_codes ON fhir_shared_resource USING gin (codes);
CREATE INDEX IF NOT EXISTS fhir_shared_resource_tokens ON fhir_shared_resource USING gin (tokens);
CREATE INDEX IF NOT EXISTS fhir_shared_resource_strings ON fhir_shared_resource USING gin (strings);
CREATE INDEX IF NOT EXISTS fhir_shared_resource_refs ON fhir_shared_resource USING gin (refs);

CREATE TABLE IF NOT EXISTS fhir_shared_resource_history (
  patient_key     text        NOT NULL DEFAULT '',
  resource_type   text        NOT NULL,
  id              text        NOT NULL,
  version_id      integer     NOT NULL,
  last_updated    timestamptz NOT NULL,
  deleted         boolean     NOT NULL DEFAULT false,
  institution_id  text,
  content         jsonb       NOT NULL,
  PRIMARY KEY (resource_type, id, version_id)
);
CREATE INDEX IF NOT EXISTS fhir_shared_resource_history_updated ON fhir_shared_resource_history (resource_type, last_updated);
