-- Registered institutions (医疗机构) and their OAuth 2.0 clients (RFC 6749 §2; SMART Backend Services).
-- Small reference tables: on Citus they become reference tables, copied to every node.
CREATE TABLE IF NOT EXISTS institution (
  id text PRIMARY KEY,
  code text NOT NULL UNIQUE,
  name text NOT NULL,
  type text NOT NULL DEFAULT 'hospital',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS institution_name_idx ON institution (name);

CREATE TABLE IF NOT EXISTS institution_client (
  client_id text PRIMARY KEY,
  institution_id text NOT NULL REFERENCES institution (id),
  -- scrypt$N$r$p$salt$hash, never the secret itself
  secret_hash text NOT NULL,
  -- space-separated SMART scopes the client may be granted
  scopes text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS institution_client_institution_idx ON institution_client (institution_id);
