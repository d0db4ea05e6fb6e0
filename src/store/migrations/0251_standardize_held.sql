-- Units held in quarantine until something specific happens (issue 4): the patient with an MRN arrives, or an
-- operator maps a local code. One row per (institution, what it waits for, unit), so releasing them touches exactly
-- those units instead of scanning the institution's quarantine. On Citus: co-located with landed_unit by institution.
CREATE TABLE IF NOT EXISTS std_held (
  institution_id text NOT NULL,
  -- 'patient|<mrn>' or 'code|<local system>|<local code>'
  hold_key text NOT NULL,
  unit_id bigint NOT NULL,
  PRIMARY KEY (institution_id, hold_key, unit_id)
);
