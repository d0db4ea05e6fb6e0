/**
 * Bulk staging for an initial load: Patients are normalised in JS (OpenCC and pinyin have no SQL twin; the keyed forms
 * of their identifying values need the keys, which the database never holds) and streamed
 * with COPY into empi_stage, then moved into empi_record in one statement (known patient_keys are left alone).
 * Staged records have no person until `batchDedupe` runs.
 */
import type { Db } from '../store/index.ts';
import { featuresOf, type MatchInput, type RecordFeatures } from './features.ts';
import { copyValues, RECORD_COLUMN_LIST } from './registry.ts';

/** Stages Patients (or already-normalised features) for batch dedupe; returns how many new records were added. */
export async function stageRecords(db: Db, inputs: Iterable<MatchInput | RecordFeatures>): Promise<number> {
  await db.exec('DELETE FROM empi_stage');
  const rows = (function* () {
    for (const x of inputs) {
      yield copyValues('patient' in x ? featuresOf(x, db.crypto) : x);
    }
  })();
  await db.copyFrom('empi_stage', RECORD_COLUMN_LIST, rows);
  const cols = RECORD_COLUMN_LIST.join(', ');
  const { rowCount } = await db.query(
    `INSERT INTO empi_record (${cols}) SELECT DISTINCT ON (patient_key) ${cols} FROM empi_stage ORDER BY patient_key ON CONFLICT (patient_key) DO NOTHING`,
  );
  await db.exec('DELETE FROM empi_stage');
  return rowCount;
}
