-- GIN "fast update" collects new entries in a pending list that the inserting backend itself must merge into the
-- index once the list passes gin_pending_list_limit (4 MB): every few thousand incremental matches, one of them paid
-- for merging the list — a stall of 0.2–1 s at a million records, the whole p99 tail of `bench empi-incremental` —
-- and every PIXm lookup by identifier scans the list linearly meanwhile. Insert straight into the index, as the FHIR
-- store does for its identifier index (0011): a small constant cost per record instead of an occasional large one.
-- The batch dedupe rebuilds the index from its definition, which keeps this setting.
ALTER INDEX empi_record_identifiers SET (fastupdate = off);
