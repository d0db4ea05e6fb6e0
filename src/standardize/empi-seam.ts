import type { Patient } from '@medplum/fhirtypes';
import { cryptoOf, featuresOf, mergeByA40 } from '../empi/index.ts';
import { matchBatch } from '../empi/match-batch.ts';
import { matchFeatures } from '../empi/match-incoming.ts';
import { lockBlockKeys } from '../empi/lock-keys.ts';
import { loadModel } from '../empi/model-store.ts';
import type { Queryable } from '../store/index.ts';
import type { StandardizeServices } from './context.ts';

/**
 * The EMPI seams of standardization (issue 5): every incoming Patient is matched inside the worker's transaction
 * (`matchFeatures`, the in-transaction form of `matchIncoming`; a worker batch's or a Bundle's Patients together by
 * `matchBatch`, the same decisions in a few statements), and ADT^A40 becomes `mergeByA40`. The match model is read
 * once, on first use, from the same transaction.
 */
export function empiHooks(): Pick<StandardizeServices, 'matchPatient' | 'matchPatients' | 'mergePatients' | 'lockPatients'> {
  let model: Awaited<ReturnType<typeof loadModel>> | undefined;
  return {
    async matchPatient(tx: Queryable, patient: Patient, unit) {
      model ??= await loadModel(tx);
      await matchFeatures(tx, featuresOf({ patient, patientKey: patient.id!, institutionId: unit.institutionId }, cryptoOf(tx)), model, { actor: `landing:${unit.id}` });
    },
    async matchPatients(tx, items) {
      if (!items.length) return;
      model ??= await loadModel(tx);
      const records = items.map(({ patient, unit }) => featuresOf({ patient, patientKey: patient.id!, institutionId: unit.institutionId }, cryptoOf(tx)));
      await matchBatch(tx, records, model, { actors: items.map((x) => `landing:${x.unit.id}`) });
    },
    async lockPatients(tx, patients) {
      await lockBlockKeys(tx, patients.map(({ patient, institutionId }) => featuresOf({ patient, patientKey: patient.id!, institutionId }, cryptoOf(tx))));
    },
    async mergePatients(tx, m) {
      await mergeByA40(tx, m.survivingIdentifier, m.priorIdentifier, { institutionId: m.institutionId, actor: 'hl7-a40' });
    },
  };
}
