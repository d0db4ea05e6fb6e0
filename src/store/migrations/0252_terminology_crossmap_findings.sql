-- Issue 17: standard codes are stored as sent; what links them to the county's reporting code systems, and what is
-- missing, is kept here. Reference data (small, everywhere read): on Citus reference tables, like terminology_*.

-- Maps between standard code systems from official distributions (SNOMED CT → ICD-10 from the SNOMED International
-- ExtendedMap refset, RxNorm → ATC from RXNCONSO): unlike terminology_map, not an institution's decision.
CREATE TABLE IF NOT EXISTS terminology_crossmap (
  source_system text NOT NULL,
  source_code text NOT NULL,
  target_system text NOT NULL,
  target_code text NOT NULL,
  -- FHIR R4 ConceptMap equivalence: equivalent, wider (the target is broader), narrower …
  equivalence text NOT NULL DEFAULT 'equivalent',
  -- The terminology_release name it came with ('snomed-icd10-map', 'rxnorm').
  release text NOT NULL,
  PRIMARY KEY (source_system, source_code, target_system)
);

-- Data-quality findings about codes that were accepted (never a refusal): a standard code with no map to the
-- county's reporting code system (a SNOMED CT diagnosis without ICD-10-CN), or a valid standard code outside the
-- loaded tables. One row per (institution, code, finding), counted; the indicators/data-quality module reads it.
CREATE TABLE IF NOT EXISTS terminology_code_finding (
  institution_id text NOT NULL,
  system text NOT NULL,
  code text NOT NULL,
  -- 'no-reporting-map' | 'not-in-tables'
  finding text NOT NULL,
  display text,
  -- What the code denotes (diagnosis, lab, drug …) and the reporting system it lacks a map to.
  kind text NOT NULL,
  target_system text,
  seen_count bigint NOT NULL DEFAULT 0,
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  -- The landed unit it was last seen in (lineage: meta.source of the resources that carry it).
  last_unit bigint,
  PRIMARY KEY (institution_id, system, code, finding)
);
