-- Platform-wide settings (key/value), e.g. the instance id. Modules own their tables in their own number range.
CREATE TABLE IF NOT EXISTS platform_setting (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
