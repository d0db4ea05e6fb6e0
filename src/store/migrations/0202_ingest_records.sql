-- A landed unit may carry several source records: a FHIR Bundle is landed whole (verbatim) but counts as its
-- entries, so feed counts speak of records for every channel (an HL7 message or a CSV row is one record).
ALTER TABLE landed_unit ADD COLUMN IF NOT EXISTS records integer NOT NULL DEFAULT 1;
ALTER TABLE landing_stage ADD COLUMN IF NOT EXISTS records integer NOT NULL DEFAULT 1;

CREATE OR REPLACE VIEW feed_counts AS
SELECT f.institution_id,
       f.day,
       f.received,
       coalesce(u.standardized, 0) AS standardized,
       coalesce(u.quarantined, 0) AS quarantined,
       f.duplicates,
       coalesce(u.pending, 0) AS pending,
       f.last_received_at
FROM feed_day f
LEFT JOIN (
  SELECT institution_id,
         ingest_day(received_at) AS day,
         coalesce(sum(records) FILTER (WHERE status = 'standardized'), 0)::bigint AS standardized,
         coalesce(sum(records) FILTER (WHERE status = 'quarantined'), 0)::bigint AS quarantined,
         coalesce(sum(records) FILTER (WHERE status = 'landed'), 0)::bigint AS pending
  FROM landed_unit
  GROUP BY 1, 2
) u ON u.institution_id = f.institution_id AND u.day = f.day;
