-- SMART Backend Services (https://hl7.org/fhir/smart-app-launch/backend-services.html): a client may register the
-- public keys (JWKS) it signs its client_assertion JWTs with, instead of using its secret.
ALTER TABLE institution_client ADD COLUMN IF NOT EXISTS jwks jsonb;

-- Assertion ids already used (replay protection, RFC 7523 §3 item 7), kept until the assertion expires.
CREATE TABLE IF NOT EXISTS auth_assertion_jti (
  client_id text NOT NULL,
  jti text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
