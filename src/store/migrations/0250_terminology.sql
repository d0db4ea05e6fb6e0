-- Terminology and local-code maps (issue 4, standardization). Reference data, small: on Citus these are reference
-- tables (replicated to every node), never distributed. The shipped subset is loaded by src/terminology at first
-- start (see loadShippedTerminology); an operator's licensed tables arrive through `healthbrain terminology import`.

-- One concept of a code system (ICD-10 国家临床版, LOINC, GB/T 2261.1, GB/T 2260, follow-up code sets, vaccines, ATC…).
CREATE TABLE IF NOT EXISTS terminology_concept (
  system text NOT NULL,
  code text NOT NULL,
  display text NOT NULL,
  display_en text,
  parent text,
  -- Per-system facts: LOINC canonical unit, molar mass, plausible range, twin code; vaccine CVX; import provenance.
  properties jsonb NOT NULL DEFAULT '{}',
  -- 'shipped' (src/terminology/data, replaced on a new release) or 'import' (an operator's table, never overwritten).
  origin text NOT NULL DEFAULT 'shipped',
  PRIMARY KEY (system, code)
);

-- Which release of the shipped data is loaded (so a new release reloads it once).
CREATE TABLE IF NOT EXISTS terminology_release (
  name text PRIMARY KEY,
  version text NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now()
);

-- Per-institution local-code maps; exported as one FHIR ConceptMap per institution and local system.
CREATE TABLE IF NOT EXISTS terminology_map (
  institution_id text NOT NULL,
  local_system text NOT NULL,
  local_code text NOT NULL,
  local_display text,
  target_system text NOT NULL,
  target_code text NOT NULL,
  -- FHIR R4 ConceptMap equivalence (equivalent, equal, wider, narrower …).
  equivalence text NOT NULL DEFAULT 'equivalent',
  -- Who decided: an operator's name, 'auto:exact-name', 'import'.
  decided_by text NOT NULL,
  decided_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (institution_id, local_system, local_code)
);

-- Local codes seen without a map: the operator's work list (with suggestions computed when listed).
CREATE TABLE IF NOT EXISTS terminology_unmapped (
  institution_id text NOT NULL,
  local_system text NOT NULL,
  local_code text NOT NULL,
  local_display text,
  -- The standard system the code should map into (ICD-10, LOINC …).
  target_system text NOT NULL,
  seen_count bigint NOT NULL DEFAULT 0,
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (institution_id, local_system, local_code)
);

-- Institution-level patients seen by standardization (referential integrity: a result for an MRN nobody registered
-- is held as `unknown-patient` until the patient arrives). Distributed by patient_key on Citus like clinical rows.
CREATE TABLE IF NOT EXISTS std_patient_ref (
  institution_id text NOT NULL,
  mrn text NOT NULL,
  patient_key text NOT NULL,
  birth_date date,
  first_unit bigint,
  PRIMARY KEY (institution_id, mrn)
);

-- Lab rows of one report arrive as separate CSV units: which Observations belong to which report (so each row can
-- rebuild the complete DiagnosticReport). Small per report; on Citus co-located by institution like landed_unit.
CREATE TABLE IF NOT EXISTS std_report_member (
  institution_id text NOT NULL,
  report_id text NOT NULL,
  observation_id text NOT NULL,
  PRIMARY KEY (institution_id, report_id, observation_id)
);
