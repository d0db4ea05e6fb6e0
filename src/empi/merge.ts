/**
 * Merge and unmerge of golden persons, with full history in empi_event. A merge only points the merged person at its
 * survivor (empi_person.merged_into); no record link and no clinical row is rewritten. Unmerge clears the pointer, so
 * both persons' link sets come back exactly as they were, in one UPDATE whatever their size.
 * Also the two ways a source system asserts identity: HL7 v2 ADT^A40 (merge patient — PID-3 survives, MRG-1 is the
 * prior) and FHIR Patient.link (replaced-by / replaces / refer / seealso).
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../store/index.ts';
import { EmpiError } from './errors.ts';
import { cryptoOf, identifierIndex } from './protect.ts';
import { refreshGolden } from './registry.ts';
import { enqueueReview } from './review.ts';

async function resolve(q: Queryable, personId: string): Promise<string | undefined> {
  const { rows } = await q.query<{ pid: string | null }>('SELECT empi_resolve(person_id) AS pid FROM empi_person WHERE person_id = $1', [personId]);
  return rows[0]?.pid ?? undefined;
}

export interface MergeOptions {
  actor?: string;
  reason?: string;
}

/**
 * Merges person `mergedId` into `survivorId` (both resolved first). Returns the merge event id, or undefined when they
 * already are one person.
 */
export async function mergePersons(q: Queryable, survivorId: string, mergedId: string, options: MergeOptions = {}): Promise<number | undefined> {
  const survivor = await resolve(q, survivorId);
  const merged = await resolve(q, mergedId);
  if (!survivor || !merged) throw new EmpiError('not-found', `unknown person ${!survivor ? survivorId : mergedId}`);
  if (survivor === merged) return undefined;
  await q.query('UPDATE empi_person SET merged_into = $1, updated_at = now() WHERE person_id = $2', [survivor, merged]);
  const { rows } = await q.query<{ event_id: number }>(
    `INSERT INTO empi_event (kind, person_id, other_person_id, actor, detail) VALUES ('merge', $1, $2, $3, $4) RETURNING event_id`,
    [survivor, merged, options.actor ?? 'system', JSON.stringify({ reason: options.reason ?? null })],
  );
  await refreshGolden(q, [survivor]);
  return rows[0].event_id;
}

/**
 * Undoes a merge event: the merged person stands alone again with exactly the links it had. Refused when the merge
 * was already undone. Returns the unmerge event id.
 */
export async function unmergePersons(q: Queryable, mergeEventId: number, options: MergeOptions = {}): Promise<number> {
  const { rows } = await q.query<{ person_id: string; other_person_id: string; undone_by: number | null; kind: string }>(
    'SELECT kind, person_id, other_person_id, undone_by FROM empi_event WHERE event_id = $1',
    [mergeEventId],
  );
  const ev = rows[0];
  if (!ev || ev.kind !== 'merge') throw new EmpiError('not-found', `event ${mergeEventId} is not a merge`);
  if (ev.undone_by) throw new EmpiError('conflict', `merge ${mergeEventId} was already undone by event ${ev.undone_by}`);
  await q.query('UPDATE empi_person SET merged_into = NULL, updated_at = now() WHERE person_id = $1 AND merged_into = $2', [ev.other_person_id, ev.person_id]);
  const un = await q.query<{ event_id: number }>(
    `INSERT INTO empi_event (kind, person_id, other_person_id, actor, detail) VALUES ('unmerge', $1, $2, $3, $4) RETURNING event_id`,
    [ev.person_id, ev.other_person_id, options.actor ?? 'system', JSON.stringify({ merge: mergeEventId, reason: options.reason ?? null })],
  );
  await q.query('UPDATE empi_event SET undone_by = $1 WHERE event_id = $2', [un.rows[0].event_id, mergeEventId]);
  const survivor = (await resolve(q, ev.person_id)) ?? ev.person_id;
  await refreshGolden(q, [survivor, ev.other_person_id]);
  return un.rows[0].event_id;
}

/** The merge history of a person (merges into it and out of it, with their unmerges). */
export async function personHistory(q: Queryable, personId: string): Promise<Array<Record<string, unknown>>> {
  const { rows } = await q.query(
    `SELECT event_id, kind, person_id, other_person_id, patient_key, actor, detail, undone_by, created_at FROM empi_event
     WHERE person_id = $1 OR other_person_id = $1 ORDER BY event_id`,
    [personId],
  );
  return rows;
}

/** Finds the record carrying identifier `system|value` (or just `value` when no system), optionally at one institution. */
export async function recordByIdentifier(q: Queryable, identifier: string, institutionId?: string): Promise<string | undefined> {
  const bar = identifier.indexOf('|');
  const system = bar >= 0 ? identifier.slice(0, bar) : '';
  const value = bar >= 0 ? identifier.slice(bar + 1) : identifier;
  const inst = institutionId ? 'AND institution_id = $2' : '';
  // Identifier values are stored encrypted: a system|value is found by its blind index (protect.ts).
  const where = system ? 'identifier_bis @> ARRAY[$1::text]' : '(local_value = $1 OR patient_key = $1)';
  const { rows } = await q.query<{ patient_key: string }>(
    `SELECT patient_key FROM empi_record WHERE ${where} ${inst} ORDER BY (status = 'active') DESC, updated_at DESC LIMIT 1`,
    [system ? identifierIndex(cryptoOf(q), `${system}|${value}`) : value, ...(institutionId ? [institutionId] : [])],
  );
  return rows[0]?.patient_key;
}

async function directPerson(q: Queryable, patientKey: string): Promise<string | undefined> {
  const { rows } = await q.query<{ person_id: string | null }>('SELECT person_id FROM empi_record WHERE patient_key = $1', [patientKey]);
  return rows[0]?.person_id ?? undefined;
}

/**
 * HL7 v2 ADT^A40 "merge patient – patient identifier list": the prior patient (MRG-1) is merged into the surviving
 * one (PID-3). The prior record is marked replaced (it stays linked, so its clinical rows stay in the record) and the
 * two persons become one. Identifiers are `system|value` (assigning authority|id) or a bare local id.
 */
export async function mergeByA40(
  q: Queryable,
  survivingIdentifier: string,
  priorIdentifier: string,
  options: MergeOptions & { institutionId?: string } = {},
): Promise<{ survivingPatientKey?: string; priorPatientKey?: string; mergeEventId?: number }> {
  const surviving = await recordByIdentifier(q, survivingIdentifier, options.institutionId);
  const prior = await recordByIdentifier(q, priorIdentifier, options.institutionId);
  if (!surviving || !prior || surviving === prior) {
    await q.query(`INSERT INTO empi_event (kind, actor, detail) VALUES ('a40-unresolved', $1, $2)`, [
      options.actor ?? 'hl7',
      JSON.stringify({ surviving: survivingIdentifier, prior: priorIdentifier, survivingPatientKey: surviving ?? null, priorPatientKey: prior ?? null }),
    ]);
    return { survivingPatientKey: surviving, priorPatientKey: prior };
  }
  return replaceRecord(q, surviving, prior, 'a40', options.actor ?? 'hl7');
}

async function replaceRecord(q: Queryable, surviving: string, prior: string, mode: 'a40' | 'patient-link', actor: string) {
  await q.query(`UPDATE empi_record SET status = 'replaced', replaced_by = $1, updated_at = now() WHERE patient_key = $2`, [surviving, prior]);
  const sp = await directPerson(q, surviving);
  const pp = await directPerson(q, prior);
  let mergeEventId: number | undefined;
  if (sp && pp) mergeEventId = await mergePersons(q, sp, pp, { actor, reason: `${mode}: ${prior} replaced by ${surviving}` });
  await q.query(
    `INSERT INTO empi_decision (patient_key, other_patient_key, person_id, outcome, mode) VALUES ($1, $2, $3, $4, $4)`,
    [prior, surviving, sp ?? null, mode],
  );
  await q.query('DELETE FROM empi_block WHERE patient_key = $1', [prior]);
  return { survivingPatientKey: surviving, priorPatientKey: prior, mergeEventId };
}

/**
 * FHIR R4 Patient.link (https://hl7.org/fhir/R4/patient-definitions.html#Patient.link): `replaced-by` and `replaces`
 * are the source's own statement that two of its Patients are one person — honoured as a merge; `refer` and `seealso`
 * only say "possibly the same" — queued for review. `patient.id` is the patient_key.
 */
export async function applyPatientLinks(q: Queryable, patient: Patient, options: MergeOptions = {}): Promise<Array<{ type: string; other: string; result: string }>> {
  const out: Array<{ type: string; other: string; result: string }> = [];
  if (!patient.id) return out;
  for (const link of patient.link ?? []) {
    const ref = link.other?.reference;
    if (!ref) continue;
    const other = ref.replace(/^.*Patient\//, '').replace(/\/_history\/.*$/, '');
    const otherPerson = await directPerson(q, other);
    const thisPerson = await directPerson(q, patient.id);
    if (!otherPerson || !thisPerson) {
      out.push({ type: link.type, other, result: 'unknown patient' });
      continue;
    }
    if (link.type === 'replaced-by') {
      await replaceRecord(q, other, patient.id, 'patient-link', options.actor ?? 'patient-link');
      out.push({ type: link.type, other, result: 'merged' });
    } else if (link.type === 'replaces') {
      await replaceRecord(q, patient.id, other, 'patient-link', options.actor ?? 'patient-link');
      out.push({ type: link.type, other, result: 'merged' });
    } else {
      const id = await enqueueReview(q, patient.id, other, 0, [], `Patient.link ${link.type}`);
      out.push({ type: link.type, other, result: id === undefined ? 'already queued' : 'queued for review' });
    }
  }
  return out;
}
