import type { Queryable } from '../store/index.ts';

/**
 * Serialises, per (institution, MRN), a patient's registration with the holds of units quarantined as waiting for
 * that patient (`unknown-patient`), across concurrent transactions (several worker loops, FHIR requests): each side
 * takes these transaction-scoped advisory locks — all of a statement's keys at once, in one global order (hash
 * order, so two transactions never wait on each other in a cycle) — in a statement of its own BEFORE the statement
 * that reads or writes the other side, which under READ COMMITTED therefore sees what the holder of the lock committed:
 *   - a registration's release (delete the holds, requeue their units) finds a hold committed before it;
 *   - a batch writing a hold reads the register again in that statement and releases the unit instead if the
 *     patient was registered meanwhile (after the batch looked the patient up: standardizer.ts, holdUnits).
 * Without them a hold written by batch X after batch Y's release looked for it, and committed after, stays forever.
 */
export async function lockPatientKeys(tx: Queryable, keys: Iterable<{ institutionId: string; mrn: string }>): Promise<void> {
  const k = [...keys].map((p) => `${p.institutionId}\u0001${p.mrn}`);
  if (!k.length) return;
  await tx.query(
    `SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT hashtextextended('std-patient:' || k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY 1) s`,
    [k],
  );
}
