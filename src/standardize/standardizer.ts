import type { BatchEnd, LandedUnit, StandardizeResult, Standardizer } from '../ingest/index.ts';
import type { Db, Queryable } from '../store/index.ts';
import type { Patient } from '@medplum/fhirtypes';
import { CodeMapper, holdKey, holdUnit, Terminology } from '../terminology/index.ts';
import { UnitContext, type PatientRef, type ReadAhead, type StandardizeServices } from './context.ts';
import { csvLookups, standardizeCsv } from './csv.ts';
import { standardizeFhir } from './fhir-bundle.ts';
import { hl7Lookups, standardizeHl7 } from './hl7.ts';
import { lockPatientKeys } from './patient-locks.ts';
import { readMembers, writeMembers } from './report-members.ts';
import type { StdReason } from './reasons.ts';
import { canonical, unchangedPatients } from './unchanged.ts';

/**
 * A `Standardizer` that can leave part of its writes to the end of the worker's batch: between `beginBatch(tx)` and
 * `endBatch(tx)` (src/ingest's worker, BatchAware). A caller that does not call them gets every unit's work done at once.
 */
export type BatchStandardizer = Standardizer & { beginBatch(tx: Queryable, units?: readonly LandedUnit[]): void; endBatch(tx: Queryable): Promise<BatchEnd> };

/**
 * What one worker transaction (a batch, or one unit of a batch redone unit by unit) collects across its units:
 * patients registered so far, and — batched mode — the Patients to hand to the EMPI at its end.
 */
interface BatchState {
  /** Opened by `beginBatch`: sightings and EMPI matches wait for `endBatch`. */
  batched: boolean;
  refs: Map<string, PatientRef>;
  /** Patient id → the Patient to match at the end of the batch and its unit (a later version of the same patient wins). */
  toMatch: Map<string, { patient: Patient; unit: LandedUnit }>;
  /** Patient id → canonical content of its version produced by an earlier unit of this batch (not yet in the store). */
  produced: Map<string, string>;
  /**
   * Units quarantined in this batch (batched mode) → their institution and the hold keys not yet written: std_held
   * gets them in one statement at the end of the batch. A later unit registering a patient for the first time drops
   * the keys it releases and marks the unit released (the requeue-wins invariant), as its SQL does for stored holds.
   */
  held: Map<number, { institutionId: string; keys: Set<string> }>;
  /** Units of `held` a later unit of the batch released: the worker leaves them 'landed'. */
  released: Set<number>;
  /** The batch's units, until its first unit reads ahead what all of them will look up (`ahead`). */
  units?: readonly LandedUnit[];
  /** A whole worker batch's read-ahead (the units were given to `beginBatch`). */
  ahead?: ReadAhead;
}

/**
 * The standardizer of issue 4 (the `Standardizer` seam of src/ingest): one landed unit → canonical FHIR R4 resources
 * with standard codes and units and `meta.source` lineage, or quarantine with machine-readable reasons
 * (reasons.ts). It runs inside the worker's transaction and writes only what survives either outcome (the unmapped
 * work list, automatic map entries, report membership once the row's Observation is built); the patient register
 * and the release of records held for a patient are written only when the unit standardizes, and the EMPI is called
 * only for Patients of units that standardize. Round trips per unit are what bound its rate: a CSV lab row costs one
 * (report membership) when its patient is already known in the transaction.
 *
 * A transaction opened with `beginBatch(tx)` (the worker does so) defers what can be done once per batch to
 * `endBatch(tx)`, which the worker calls after the last unit of the transaction: the unmapped-code sightings (one statement),
 * the holds of the batch's quarantined units (one statement; those a later unit of the batch released by registering
 * their patient are reported to the worker as released — the requeue wins), and the EMPI — the batch's
 * Patients locked together in the EMPI's order (no deadlock with concurrent FHIR Bundles), then matched; a returning
 * patient whose Patient is unchanged is neither written again nor matched again. Without it (tests, tools calling it
 * unit by unit) every unit does all of its own work.
 */
export function createStandardizer(services: StandardizeServices): BatchStandardizer {
  const states = new WeakMap<Queryable, BatchState>();
  const standardize = async (unit: LandedUnit, tx: Queryable): Promise<StandardizeResult> => {
    let state = states.get(tx);
    if (!state) states.set(tx, (state = newState(false)));
    if (state.units) {
      const units = state.units;
      state.units = undefined;
      await readAhead(tx, state, units);
    }
    const ctx = new UnitContext(tx, unit, services, state.refs, state.ahead);
    let entries: Array<string | undefined> | undefined;
    switch (unit.channel) {
      case 'csv':
        await standardizeCsv(ctx);
        break;
      case 'hl7-mllp':
      case 'hl7-http':
        await standardizeHl7(ctx);
        break;
      case 'fhir':
        entries = await standardizeFhir(ctx);
        break;
      default:
        ctx.fail('unparseable', `unknown channel ${String(unit.channel)}`);
    }
    const result = await finishUnit(ctx, state.batched ? state : undefined);
    // A Bundle's entries → what each became (`Type/id`, null: not stored), kept with the unit for its status URL.
    return entries && 'resources' in result ? { ...result, entryRefs: entries.map((ref) => ref ?? null) } : result;
  };
  return Object.assign(standardize, {
    beginBatch(tx: Queryable, units?: readonly LandedUnit[]): void {
      const state = newState(true);
      if (units?.length) {
        Object.assign(state, { units, ahead: { unregistered: new Set(), registered: new Set(), registrations: [], members: new Map(), newMembers: [] } });
      }
      states.set(tx, state);
      services.mapper.defer(tx);
    },
    async endBatch(tx: Queryable): Promise<BatchEnd> {
      const state = states.get(tx);
      states.delete(tx);
      const stale = await services.mapper.flush(tx);
      if (stale.length) {
        // Confirmed by another process after this one cached them as unmapped: the quarantines made for them in this
        // transaction are wrong; throwing makes the worker redo the units (the negative cache no longer has them).
        throw new Error(`local codes mapped meanwhile: ${stale.map((c) => `${c.system}|${c.code}`).join(', ')}`);
      }
      // The registrations first: their release must not find the holds of units quarantined after them (none is for
      // a patient registered earlier in the batch: that unit found the patient), as when each was written at once.
      // The (institution, MRN) locks of the batch's first registrations and of its units held for a patient, all in
      // one statement, in one global order (patient-locks.ts), before the statements that read or write them.
      if (state) await lockPatientKeys(tx, patientKeysOf(state));
      if (state?.ahead) await writeRegistrations(tx, state);
      if (state?.ahead) await writeMembers(tx, state.ahead);
      if (state?.held.size) await holdUnits(tx, state.held, state.released);
      const released = [...(state?.released ?? [])];
      if (!state?.toMatch.size || !services.matchPatient) return { released };
      const items = [...state.toMatch.values()].sort((a, b) => nameOf(a.patient).localeCompare(nameOf(b.patient)) || a.patient.id!.localeCompare(b.patient.id!));
      if (services.matchPatients) {
        await services.matchPatients(tx, items); // all at once: the EMPI's batch form (it takes the locks too)
        return { released };
      }
      await services.lockPatients?.(tx, items.map(({ patient, unit }) => ({ patient, institutionId: unit.institutionId })));
      for (const { patient, unit } of items) await services.matchPatient(tx, patient, unit);
      return { released };
    },
  });
}

const newState = (batched: boolean): BatchState => ({
  batched, refs: new Map(), toMatch: new Map(), produced: new Map(), held: new Map(), released: new Set(),
});

/**
 * Reads ahead, in one statement each, what the batch's units will look up: the patient register entries of the local
 * patient ids of its clinical rows and messages (found → the transaction's patient cache, as a lookup puts them; not
 * found → `unregistered`, so that their lookups read nothing), and the members of its lab rows' reports. What a unit
 * would look up that is not read ahead (a FHIR Bundle's patients) is read at its lookup, as without a batch.
 */
async function readAhead(tx: Queryable, state: BatchState, units: readonly LandedUnit[]): Promise<void> {
  const ahead = state.ahead!;
  const patients = new Map<string, [string, string]>();
  const reports: Array<[string, string]> = [];
  for (const u of units) {
    const l: { mrn?: string; reportId?: string; registers?: string } = u.channel === 'csv' ? csvLookups(u) : u.channel === 'hl7-mllp' || u.channel === 'hl7-http' ? hl7Lookups(u) : {};
    for (const mrn of [l.mrn, l.registers]) if (mrn) patients.set(`${u.institutionId}\u0001${mrn}`, [u.institutionId, mrn]);
    if (l.reportId) reports.push([u.institutionId, l.reportId]);
  }
  if (patients.size) {
    const pairs = [...patients.values()];
    const { rows } = await tx.query<{ institution_id: string; mrn: string; patient_key: string; birth_date: string | null }>(
      `SELECT r.institution_id, r.mrn, r.patient_key, r.birth_date
         FROM std_patient_ref r JOIN unnest($1::text[], $2::text[]) AS x(institution_id, mrn) USING (institution_id, mrn)`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
    for (const r of rows) {
      const key = `${r.institution_id}\u0001${r.mrn}`;
      patients.delete(key);
      ahead.registered.add(key);
      state.refs.set(key, { id: r.patient_key, reference: `Patient/${r.patient_key}`, birthDate: r.birth_date ?? undefined });
    }
    for (const key of patients.keys()) ahead.unregistered.add(key);
  }
  await readMembers(tx, ahead, reports);
}

/**
 * The batch's registrations of patients it read ahead, in one statement: the register upserted (one row per MRN: its
 * first unit, its last birth date given — as the upserts one by one would leave it), then, for the patients registered
 * for the first time, what waited for them released: stored holds deleted and their units requeued; a unit of this
 * batch found held (an older hold of its) is released if it came before the registering unit, as it would have been.
 */
async function writeRegistrations(tx: Queryable, state: BatchState): Promise<void> {
  const regs = state.ahead!.registrations;
  if (!regs.length) return;
  const rows = new Map<string, { inst: string; mrn: string; key: string; birth: string | null; first: number; fresh: boolean }>();
  for (const r of regs) {
    const k = `${r.institutionId}\u0001${r.mrn}`;
    const row = rows.get(k);
    if (!row) rows.set(k, { inst: r.institutionId, mrn: r.mrn, key: r.patientKey, birth: r.birthDate, first: r.unitId, fresh: r.fresh });
    else if (r.birthDate !== null) row.birth = r.birthDate;
  }
  const sorted = [...rows.values()].sort((a, b) => (a.inst < b.inst ? -1 : a.inst > b.inst ? 1 : a.mrn < b.mrn ? -1 : a.mrn > b.mrn ? 1 : 0));
  const { rows: held } = await tx.query<{ unit_id: string; by_unit: string }>(
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::boolean[], $7::text[])
         AS x(inst, mrn, patient_key, birth_date, first_unit, fresh, hold_key)),
     ins AS (
       INSERT INTO std_patient_ref (institution_id, mrn, patient_key, birth_date, first_unit)
       SELECT inst, mrn, patient_key, birth_date::date, first_unit FROM input
       ON CONFLICT (institution_id, mrn) DO UPDATE SET birth_date = coalesce(EXCLUDED.birth_date, std_patient_ref.birth_date)
       RETURNING 1),
     held AS (
       DELETE FROM std_held h USING input
        WHERE input.fresh AND h.institution_id = input.inst AND h.hold_key = input.hold_key
        RETURNING h.unit_id, h.institution_id, input.first_unit),
     released AS (
       UPDATE landed_unit u SET status = 'landed', attempts = 0, last_error = NULL, reasons = NULL
         FROM held WHERE u.id = held.unit_id AND u.institution_id = held.institution_id AND u.status = 'quarantined' RETURNING 1)
     SELECT unit_id, first_unit AS by_unit FROM held`,
    [
      sorted.map((r) => r.inst), sorted.map((r) => r.mrn), sorted.map((r) => r.key), sorted.map((r) => r.birth),
      sorted.map((r) => r.first), sorted.map((r) => r.fresh), sorted.map((r) => holdKey({ mrn: r.mrn })),
    ],
  );
  for (const h of held) {
    const unitId = Number(h.unit_id);
    if (state.held.has(unitId) && unitId < Number(h.by_unit)) state.released.add(unitId);
  }
}

/**
 * The holds of a batch's quarantined units, in one statement (sorted: concurrent workers take the keys in one order).
 * Read under the locks endBatch took (patient-locks.ts), the register tells which patients a concurrent transaction
 * registered after this batch looked them up: their holds are not written, and a unit waiting for one is released
 * (`released`) — what that registration's release would have done had it seen the hold.
 */
async function holdUnits(tx: Queryable, held: BatchState['held'], released: Set<number>): Promise<void> {
  const rows = [...held].flatMap(([unitId, h]) => [...h.keys].map((key) => ({ inst: h.institutionId, key, unitId })));
  if (!rows.length) return;
  rows.sort((a, b) => (a.inst < b.inst ? -1 : a.inst > b.inst ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : a.unitId - b.unitId));
  const { rows: arrived } = await tx.query<{ inst: string; hold_key: string }>(
    `WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(inst, hold_key, unit_id)),
     arrived AS (
       SELECT DISTINCT i.inst, i.hold_key FROM input i JOIN std_patient_ref r ON r.institution_id = i.inst AND r.mrn = substr(i.hold_key, 9)
        WHERE i.hold_key LIKE 'patient|%'),
     ins AS (
       INSERT INTO std_held (institution_id, hold_key, unit_id)
       SELECT inst, hold_key, unit_id FROM input WHERE (inst, hold_key) NOT IN (SELECT inst, hold_key FROM arrived)
       ON CONFLICT DO NOTHING RETURNING 1)
     SELECT inst, hold_key FROM arrived`,
    [rows.map((r) => r.inst), rows.map((r) => r.key), rows.map((r) => r.unitId)],
  );
  if (!arrived.length) return;
  const now = new Set(arrived.map((a) => `${a.inst}\u0001${a.hold_key}`));
  for (const r of rows) if (now.has(`${r.inst}\u0001${r.key}`)) released.add(r.unitId);
}

/**
 * Thrown by an unbatched unit (a FHIR request's Bundle, a unit redone on its own) about to be held for a patient whom a
 * concurrent transaction registered after the unit looked the patient up: run the unit again — it finds the patient.
 * The FHIR channel retries its transaction; the worker redoes the unit.
 */
export class PatientArrivedMeanwhile extends Error {}

/**
 * The holds of a unit standardized on its own, written as a batch's are: under the locks of the patients it waits for
 * (patient-locks.ts) and with the register read again, so a registration that committed after this unit's lookup (and
 * whose release could not see this hold) is not missed: the unit runs again instead of staying quarantined.
 */
async function holdAlone(tx: Queryable, unit: LandedUnit, keys: string[], waitingFor: string[]): Promise<void> {
  if (!waitingFor.length) return holdUnit(tx, unit.institutionId, keys, unit.id);
  await lockPatientKeys(tx, waitingFor.map((mrn) => ({ institutionId: unit.institutionId, mrn })));
  const released = new Set<number>();
  await holdUnits(tx, new Map([[unit.id, { institutionId: unit.institutionId, keys: new Set(keys) }]]), released);
  if (released.size) throw new PatientArrivedMeanwhile(`unit ${unit.id}: a patient it waits for was registered meanwhile; it runs again`);
}

/** The (institution, MRN) of a batch's first registrations and of the patients its quarantined units wait for. */
function patientKeysOf(state: BatchState): Array<{ institutionId: string; mrn: string }> {
  const keys = new Map<string, { institutionId: string; mrn: string }>();
  for (const r of state.ahead?.registrations ?? []) if (r.fresh) keys.set(`${r.institutionId}\u0001${r.mrn}`, { institutionId: r.institutionId, mrn: r.mrn });
  for (const [unitId, h] of state.held) {
    if (state.released.has(unitId)) continue;
    for (const k of h.keys) if (k.startsWith('patient|')) keys.set(`${h.institutionId}\u0001${k.slice(8)}`, { institutionId: h.institutionId, mrn: k.slice(8) });
  }
  return [...keys.values()];
}

/**
 * A unit of this batch registered patients: the batch's quarantined units it releases are those held for a patient
 * registered for the first time (their hold keys not yet written) or found held in std_held (`held`, by the unit's
 * statement) — the same units its statement would have requeued had their quarantine been written at once.
 */
function releaseHeld(batch: BatchState, institutionId: string, fresh: Set<string>, held: number[]): void {
  if (fresh.size && batch.held.size) {
    const keys = new Set([...fresh].map((mrn) => holdKey({ mrn })));
    for (const [unitId, h] of batch.held) {
      if (h.institutionId !== institutionId) continue;
      let hit = false;
      for (const k of keys) if (h.keys.delete(k)) hit = true;
      if (hit) batch.released.add(unitId);
    }
  }
  for (const unitId of held) if (batch.held.has(unitId)) batch.released.add(unitId);
}

const nameOf = (p: Patient): string => p.name?.[0]?.text ?? '';

/**
 * The end of standardizing one unit, whatever its channel: a unit with reasons is held by what it waits for and
 * quarantined; otherwise its patient registrations are written and its Patients go through the EMPI seam — at once,
 * or (`batch` given) at the end of the batch, skipping a Patient whose content is unchanged (also not written again).
 */
export async function finishUnit(ctx: UnitContext, batch?: BatchState): Promise<StandardizeResult> {
  const { tx, unit } = ctx;
  // The data-quality findings of its accepted standard codes (issue 17); a batch writes them at its end (flush).
  if (!batch) await ctx.services.mapper.flushFindings(tx, unit.id);
  if (ctx.reasons.length) {
    // What the unit waits for, so the patient's arrival or the code's confirmation releases exactly it.
    const keys = ctx.reasons.flatMap((r) => (r.code === 'unknown-patient' && r.patient ? [holdKey(r.patient)] : r.code === 'unmapped-code' && r.local ? [holdKey(r.local)] : []));
    // In a batch the holds are written at its end, all at once (endBatch); a later unit may release them first.
    if (batch) batch.held.set(unit.id, { institutionId: unit.institutionId, keys: new Set(keys) });
    else await holdAlone(tx, unit, keys, ctx.reasons.flatMap((r) => (r.code === 'unknown-patient' && r.patient ? [r.patient.mrn] : [])));
    return { quarantine: dedupe(ctx.reasons) };
  }
  const { fresh, held } = await ctx.commitRegistrations();
  if (batch) releaseHeld(batch, unit.institutionId, fresh, held);
  if (!batch) {
    if (ctx.patientsToMatch.length > 1 && ctx.services.matchPatients) await ctx.services.matchPatients(tx, ctx.patientsToMatch.map((patient) => ({ patient, unit })));
    else for (const p of ctx.patientsToMatch) await ctx.services.matchPatient?.(tx, p, unit);
    return { resources: ctx.resources };
  }
  if (!ctx.patientsToMatch.length) return { resources: ctx.resources };
  // Compared with the version an earlier unit of this batch produced, else with the stored one (one indexed read) —
  // unless its MRN was registered just now for the first time: then there is no stored one.
  const unchanged = new Set<string>();
  const stored: Patient[] = [];
  for (const p of ctx.patientsToMatch) {
    const earlier = batch.produced.get(p.id!);
    if (earlier !== undefined) {
      if (earlier === canonical(p)) unchanged.add(p.id!);
    } else if (!fresh.has(ctx.mrnOf(p.id!) ?? '')) stored.push(p);
  }
  for (const ref of (await unchangedPatients(tx, stored)).keys()) unchanged.add(ref.slice('Patient/'.length));
  for (const p of ctx.patientsToMatch) {
    if (unchanged.has(p.id!)) continue;
    batch.produced.set(p.id!, canonical(p));
    batch.toMatch.delete(p.id!); // re-inserted last: the batch's patients are matched in their final version
    batch.toMatch.set(p.id!, { patient: p, unit });
  }
  return { resources: unchanged.size ? ctx.resources.filter((r) => !(r.resourceType === 'Patient' && unchanged.has(r.id!))) : ctx.resources };
}

/** Opens the standardization services on a database (CLI tools, tests). */
export async function openStandardization(db: Db | Queryable, hooks: Pick<StandardizeServices, 'matchPatient' | 'matchPatients' | 'mergePatients' | 'lockPatients' | 'now'> = {}): Promise<StandardizeServices> {
  const terminology = await Terminology.open(db);
  return { terminology, mapper: await CodeMapper.open(db, terminology), ...hooks };
}

function dedupe(reasons: StdReason[]): StdReason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const k = JSON.stringify(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
