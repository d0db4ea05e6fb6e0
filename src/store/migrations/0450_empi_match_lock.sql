-- Incremental matching under concurrency: two Patients of the same new person arriving at once on two connections
-- must not both create a person. Before creating one, the matcher takes a transaction-scoped advisory lock on each of
-- the incoming record's blocking keys (hashed; in one global order, so two matchers never wait on each other in a
-- cycle) and reads the candidates again. That read runs inside this VOLATILE function, after the locks are granted, so
-- under READ COMMITTED it takes a new snapshot and sees a concurrent matcher's record as soon as that one committed —
-- a statement that locked and read in one go would read with the snapshot it started with, before the wait.
-- `q` is the candidate SELECT (src/empi/candidates.ts) with $1 = the keys (text[]) and $2 = the incoming patient_key.
CREATE OR REPLACE FUNCTION empi_locked_candidates(keys text[], q text, pk text) RETURNS SETOF jsonb
LANGUAGE plpgsql VOLATILE AS $$
DECLARE h bigint;
BEGIN
  FOR h IN SELECT DISTINCT hashtextextended('empi-block:' || k, 0) FROM unnest(keys) AS k ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(h);
  END LOOP;
  RETURN QUERY EXECUTE 'SELECT to_jsonb(x) FROM (' || q || ') x' USING keys, pk;
END $$;
