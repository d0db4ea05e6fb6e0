-- Feed days are the region's days: a unit received at 2026-11-22T17:00:00Z (01:00 in Beijing) counts on 2026-11-23,
-- the day the institution and the operator see on their clocks. China has one time zone and no daylight saving
-- time (none since 1991), so the day is UTC + 8 hours: a fixed offset, honestly IMMUTABLE, and the same on both engines
-- without depending on the time-zone database (PGlite ships it and knows 'Asia/Shanghai', but a named zone's rules can
-- change with tzdata, which an IMMUTABLE function must not). Not configurable: the counter (feed_day.day) stores the
-- day, so changing the zone later would split every stored day from the units it counted.
-- No index uses the expression any more (0203 dropped landed_unit_inst_day), so nothing needs rebuilding; the views
-- feed_counts (0202) call the function and follow the new definition at once.
CREATE OR REPLACE FUNCTION ingest_day(ts timestamptz) RETURNS date
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ((ts AT TIME ZONE 'UTC') + interval '8 hours')::date $$;

-- The counter rows already written were keyed by the UTC day. Re-key them so that every day still reconciles
-- (received = standardized + quarantined + duplicates + pending): what landed is recounted from landed_unit under the
-- new day (exact: a landing adds its units' records to received); duplicates are not stored per receipt, so each old
-- row's duplicates stay on the same calendar date (a UTC day is 08:00–08:00 Beijing time: mostly that date).
CREATE TEMPORARY TABLE feed_day_0210 ON COMMIT DROP AS
WITH landed AS (
  SELECT institution_id, ingest_day(received_at) AS day, sum(records)::bigint AS n, max(received_at) AS last
    FROM landed_unit GROUP BY 1, 2
), dup AS (
  SELECT institution_id, day, duplicates, last_received_at FROM feed_day
)
SELECT coalesce(l.institution_id, d.institution_id) AS institution_id,
       coalesce(l.day, d.day) AS day,
       coalesce(l.n, 0) + coalesce(d.duplicates, 0) AS received,
       coalesce(d.duplicates, 0) AS duplicates,
       greatest(l.last, d.last_received_at) AS last_received_at
  FROM landed l FULL JOIN dup d ON d.institution_id = l.institution_id AND d.day = l.day
 WHERE coalesce(l.n, 0) + coalesce(d.duplicates, 0) > 0;
DELETE FROM feed_day;
INSERT INTO feed_day (institution_id, day, received, duplicates, last_received_at)
SELECT institution_id, day, received, duplicates, last_received_at FROM feed_day_0210;
