-- empi_block: a plain (non-unique) index instead of the primary key, so that batch mode can drop and rebuild it
-- around a bulk insert (building an index once is far cheaper than maintaining it row by row). Writers never insert
-- a (key, patient_key) twice: incremental mode deletes a record's keys before writing them, batch mode writes keys
-- only for records that have none.
ALTER TABLE empi_block DROP CONSTRAINT IF EXISTS empi_block_pkey;
CREATE INDEX IF NOT EXISTS empi_block_key ON empi_block (key, patient_key);
