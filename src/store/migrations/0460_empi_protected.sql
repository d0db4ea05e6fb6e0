-- EMPI encryption at rest (issue 10, 密评 GB/T 39786): empi_record.resident_id, phone, passport and the values of
-- identifiers, empi_person.resident_id and health_card, and the protected values of the golden records hold SM4
-- ciphertexts from now on (written by the application, which holds the keys); the matcher compares and looks up the
-- keyed forms added here (src/empi/protect.ts): blind indexes for equality, blocking and lookups, masked and swapped
-- variants for the one-digit and transposition levels, and the one bit the golden record needs (birth date confirmed
-- by the ID). Blocking keys r:, p:, x: are built from the blind indexes.
--
-- Rows written before this migration still hold clear values and no keyed forms; the application re-derives them at
-- start-up (src/empi/protect-legacy.ts, run by openPlatform), which also rewrites their blocking keys.
ALTER TABLE empi_record
  ADD COLUMN IF NOT EXISTS rid_bi text,
  ADD COLUMN IF NOT EXISTS rid_near text[],
  ADD COLUMN IF NOT EXISTS rid_swaps text[],
  ADD COLUMN IF NOT EXISTS rid_dob boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS phone_bi text,
  ADD COLUMN IF NOT EXISTS passport_bi text,
  ADD COLUMN IF NOT EXISTS passport_near text[],
  ADD COLUMN IF NOT EXISTS identifier_bis text[] NOT NULL DEFAULT '{}';
ALTER TABLE empi_stage
  ADD COLUMN IF NOT EXISTS rid_bi text,
  ADD COLUMN IF NOT EXISTS rid_near text[],
  ADD COLUMN IF NOT EXISTS rid_swaps text[],
  ADD COLUMN IF NOT EXISTS rid_dob boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS phone_bi text,
  ADD COLUMN IF NOT EXISTS passport_bi text,
  ADD COLUMN IF NOT EXISTS passport_near text[],
  ADD COLUMN IF NOT EXISTS identifier_bis text[] NOT NULL DEFAULT '{}';

-- Lookups move from the (now random) ciphertexts to the blind indexes.
DROP INDEX IF EXISTS empi_record_resident_id;
CREATE INDEX IF NOT EXISTS empi_record_rid_bi ON empi_record (rid_bi);
CREATE INDEX IF NOT EXISTS empi_record_phone_bi ON empi_record (phone_bi);
DROP INDEX IF EXISTS empi_record_identifiers;
CREATE INDEX IF NOT EXISTS empi_record_identifier_bis ON empi_record USING gin (identifier_bis) WITH (fastupdate = off);

-- The health card number is unique through its blind index; a new person has none for the moment between its creation
-- and its card's issue inside the same batch transaction (src/empi/protect.ts issueHealthCards).
ALTER TABLE empi_person ADD COLUMN IF NOT EXISTS health_card_bi text;
ALTER TABLE empi_person DROP CONSTRAINT IF EXISTS empi_person_health_card_key;
CREATE UNIQUE INDEX IF NOT EXISTS empi_person_health_card_bi ON empi_person (health_card_bi);
DROP INDEX IF EXISTS empi_person_resident_id;
