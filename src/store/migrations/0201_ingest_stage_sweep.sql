-- Staging rows are deleted by the statement that lands them; a crash between COPY and that statement leaves rows
-- nobody acknowledged. Their age lets the worker sweep them (see sweepStage in src/ingest/worker.ts).
ALTER TABLE landing_stage ADD COLUMN IF NOT EXISTS staged_at timestamptz NOT NULL DEFAULT now();
