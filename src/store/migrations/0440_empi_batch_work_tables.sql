-- Batch dedupe at a million records (issue 5). The batch work tables are rewritten by every run and read only inside
-- it: UNLOGGED (no WAL for millions of pairs; a crash empties them, which a batch that restarts does anyway), and the
-- pair table loses its primary key — its rows are written grouped by (a, b), so unique, and maintaining a text b-tree
-- over millions of inserted pairs cost more than computing them. (Batch dedupe re-creates empi_batch_pair with
-- CREATE TABLE … AS in the same shape, which PostgreSQL runs with parallel workers; see src/empi/pairs.ts.)
ALTER TABLE empi_batch_pair DROP CONSTRAINT IF EXISTS empi_batch_pair_pkey;
ALTER TABLE empi_batch_pair SET UNLOGGED;
ALTER TABLE empi_batch_edge SET UNLOGGED;
ALTER TABLE empi_batch_cc SET UNLOGGED;
ALTER TABLE empi_batch_group SET UNLOGGED;
ALTER TABLE empi_batch_person SET UNLOGGED;
ALTER TABLE empi_stage SET UNLOGGED;
-- The blocking rule 'm' (resident ID region + birth date) is retired: every true pair it found was found by another
-- rule, and at a million records it alone made 14M of the 24M blocked pairs (docs/EMPI.md, "Blocking").
DELETE FROM empi_block WHERE key LIKE 'm:%';
