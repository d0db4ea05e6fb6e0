-- The worker's claim (issue 4): up to max_units units still 'landed', in id order, locked FOR UPDATE SKIP LOCKED (so
-- several worker loops or servers never take the same unit), and no more once the claimed units' content reaches
-- max_bytes (at least one unit is always claimed): a backlog of large FHIR Bundles no longer becomes one giant
-- transaction. A cursor fetched one row at a time locks only the rows it returns, so a unit left out by the byte
-- budget stays free for the next claim — a statement with a window sum would have to lock every candidate first.
-- FHIR Bundles are processed by their request; the worker waits two minutes only for one never processed (its request
-- may still be running, or crashed). One processed before (a failed attempt, or requeued: these keep processed_at) or
-- sent with `Prefer: respond-async` (meta {"respond": "async"}: no request processes it) goes at once.
CREATE OR REPLACE FUNCTION ingest_claim(max_units integer, max_bytes bigint) RETURNS SETOF landed_unit
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  c refcursor;
  r landed_unit%ROWTYPE;
  n integer := 0;
  total bigint := 0;
BEGIN
  OPEN c FOR SELECT * FROM landed_unit
    WHERE status = 'landed'
      AND (channel <> 'fhir' OR attempts > 0 OR processed_at IS NOT NULL OR meta @> '{"respond": "async"}'
           OR received_at < now() - interval '2 minutes')
    ORDER BY id FOR UPDATE SKIP LOCKED;
  WHILE n < max_units AND total < max_bytes LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    RETURN NEXT r;
    n := n + 1;
    total := total + octet_length(r.content);
  END LOOP;
  CLOSE c;
END $$;
