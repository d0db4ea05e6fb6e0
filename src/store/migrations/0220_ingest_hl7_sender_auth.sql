-- MLLP sender authentication (issue 10, GB/T 22239 level 3 "identification of the communicating party"): a sender
-- is bound to its institution AND to how it connects. allowed_addresses now holds addresses or CIDR blocks, and an
-- empty list no longer means "any address" on MLLP: a sender is reachable over MLLP only through an allowlist or a
-- client certificate. secret_hash is the SM3 digest of a shared secret the sender puts in MSH-8 (Security);
-- cert_fingerprint the SHA-256 fingerprint of the TLS client certificate it must present.
ALTER TABLE hl7_sender ADD COLUMN IF NOT EXISTS secret_hash text;
ALTER TABLE hl7_sender ADD COLUMN IF NOT EXISTS cert_fingerprint text;
COMMENT ON COLUMN hl7_sender.allowed_addresses IS 'source addresses or CIDR blocks allowed to send over MLLP; empty: only with a client certificate';
