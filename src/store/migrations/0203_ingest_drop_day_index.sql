-- Landing throughput: every landed row paid for this expression index, yet per-institution counts are served by the
-- (institution_id, content_hash) unique index (the view's institution filter is pushed into its GROUP BY subquery).
DROP INDEX IF EXISTS landed_unit_inst_day;
