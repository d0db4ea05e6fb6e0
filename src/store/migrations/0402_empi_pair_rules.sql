-- Which blocking rules produced each batch pair (bit set), for training m per rule. Idempotent: 0400 may already
-- have it on databases created after it was added there.
ALTER TABLE empi_batch_pair ADD COLUMN IF NOT EXISTS rules integer NOT NULL DEFAULT 0;
