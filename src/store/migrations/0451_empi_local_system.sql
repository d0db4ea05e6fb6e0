-- PIXm (ITI-83) tells an unknown Patient Identity Domain (400 / 403) from an unknown identifier in a known domain
-- (404): whether any registered Patient carries a record number of a system is one probe of this index.
CREATE INDEX IF NOT EXISTS empi_record_local_system ON empi_record (local_system);
