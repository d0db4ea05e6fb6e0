import type { CodeableConcept, Coding, Meta, Patient, Quantity, Resource } from '@medplum/fhirtypes';
import type { LandedUnit } from '../ingest/types.ts';
import type { Queryable } from '../store/index.ts';
import { holdKey, SYSTEMS, type CodeMapper, type Concept, type LocalKind, type Terminology } from '../terminology/index.ts';
import { normalizeQuantity } from '../terminology/units.ts';
import { checkDate, type ParsedDate } from './dates.ts';
import { EXT, lineage, mrnSystem, organizationRef, stableId } from './ids.ts';
import { lockPatientKeys } from './patient-locks.ts';
import { reason, type ReasonCode, type StdReason } from './reasons.ts';

/** What standardization needs from the rest of the platform, passed in (no singletons). */
export interface StandardizeServices {
  terminology: Terminology;
  mapper: CodeMapper;
  /**
   * EMPI seam (issue 5): called for every incoming Patient inside the worker's transaction, after the Patient is
   * built, so that it is linked to a person as it arrives. Undefined until the EMPI is wired in.
   */
  matchPatient?: (tx: Queryable, patient: Patient, unit: LandedUnit) => Promise<void>;
  /**
   * EMPI seam for a unit carrying several Patients (a FHIR Bundle), or a worker batch: takes the identity layer's
   * locks for all of them at once, in its global order, before they are matched one by one (concurrent units would deadlock otherwise).
   */
  lockPatients?: (tx: Queryable, patients: Array<{ patient: Patient; institutionId: string }>) => Promise<void>;
  /**
   * EMPI seam for several Patients at once (a worker batch, a FHIR Bundle): matched in the given order with the
   * decisions `matchPatient` on each in turn would give, in a few statements for all (src/empi/match-batch.ts). It
   * takes the locks `lockPatients` takes itself.
   */
  matchPatients?: (tx: Queryable, items: Array<{ patient: Patient; unit: LandedUnit }>) => Promise<void>;
  /** EMPI seam for HL7 ADT^A40: merge the prior local patient (MRG-1) into the surviving one (PID-3). */
  mergePatients?: (tx: Queryable, m: { institutionId: string; survivingIdentifier: string; priorIdentifier: string }) => Promise<void>;
  now?: () => Date;
}

export interface PatientRef {
  id: string;
  reference: string;
  birthDate?: string;
}

/**
 * What a worker batch read ahead for all its units at once (createStandardizer, batched mode): the patient register
 * and report membership its units will look up. Units standardized later in the batch see what earlier ones changed:
 * registrations through the transaction's patient cache (consulted first), memberships through `members` itself.
 */
export interface ReadAhead {
  /** institution \u0001 MRN read ahead and not registered (yet): a lookup of one reads nothing; registering one is its first. */
  unregistered: Set<string>;
  /** institution \u0001 MRN read ahead and found registered, or registered by this batch. */
  registered: Set<string>;
  /**
   * This batch's registrations of MRNs it read ahead, in unit order: the register upserted and what waited for the
   * patients registered for the first time released at its end, in one statement (writeRegistrations).
   */
  registrations: Array<{ institutionId: string; mrn: string; patientKey: string; birthDate: string | null; unitId: number; fresh: boolean }>;
  /** institution \u0001 report id → the Observation ids listed under it, this batch's included. */
  members: Map<string, Set<string>>;
  /** Memberships added by this batch's units, [institution, report id, Observation id]: written at its end, one statement. */
  newMembers: Array<[string, string, string]>;
}

/** The state of standardizing one landed unit: its reasons to quarantine and the resources produced so far. */
export class UnitContext {
  readonly tx: Queryable;
  readonly unit: LandedUnit;
  readonly services: StandardizeServices;
  readonly institutionId: string;
  readonly now: Date;
  readonly reasons: StdReason[] = [];
  readonly resources: Resource[] = [];
  /**
   * What was accepted with a remark, by element (a standard code without a map to the reporting system, or outside
   * the loaded tables: issue 17) — the per-entry outcomes of `Prefer: return=OperationOutcome`.
   */
  readonly notes: Array<{ element: string; text: string }> = [];
  /** Patients to hand to the EMPI once the unit is known to standardize (a quarantined unit links nobody). */
  readonly patientsToMatch: Patient[] = [];
  readonly #patients = new Map<string, PatientRef>();
  readonly #registered: Array<{ mrn: string; patient: Patient }> = [];
  readonly #mrnOf = new Map<string, string>();
  /**
   * Patients known in the current worker transaction (read from std_patient_ref or registered by a unit that
   * standardized). Scoped to the transaction object: it dies with it, so a rolled-back batch leaves no stale entry.
   */
  readonly #cache?: Map<string, PatientRef>;
  /** The batch's read-ahead (batched mode only). */
  readonly ahead?: ReadAhead;

  constructor(tx: Queryable, unit: LandedUnit, services: StandardizeServices, cache?: Map<string, PatientRef>, ahead?: ReadAhead) {
    this.#cache = cache;
    this.ahead = ahead;
    this.tx = tx;
    this.unit = unit;
    this.services = services;
    this.institutionId = unit.institutionId;
    this.now = services.now?.() ?? new Date();
  }

  get terminology(): Terminology {
    return this.services.terminology;
  }

  fail(code: ReasonCode, detail?: string, element?: string, extra?: Partial<StdReason>): undefined {
    this.reasons.push(reason(code, detail, element, extra));
    return undefined;
  }

  /** The common frame of every produced resource: id from the source keys, meta.source lineage. */
  frame<T extends Resource['resourceType']>(resourceType: T, ...keys: string[]): { resourceType: T; id: string; meta: Meta } {
    // The institution as a tag too: some resources (Condition) have no element that may reference an Organization.
    return {
      resourceType, id: stableId(resourceType, this.institutionId, ...keys),
      meta: { ...lineage(this.unit.id), tag: [{ system: EXT.institution, code: this.institutionId }] },
    };
  }

  org() {
    return organizationRef(this.institutionId);
  }

  /** A required text field: empty → `missing-required`. */
  required(value: string | undefined, element: string): string | undefined {
    const v = value?.trim();
    if (!v) return this.fail('missing-required', `${element} is empty`, element);
    return v;
  }

  /** Parses and checks a date (see checkDate); a problem is a quarantine reason. Empty → undefined (or missing-required). */
  date(raw: string | undefined, element: string, opts: { required?: boolean; birthDate?: string; allowFuture?: boolean } = {}): ParsedDate | undefined {
    if (!raw?.trim()) return opts.required ? this.fail('missing-required', `${element} is empty`, element) : undefined;
    const far = opts.allowFuture ? new Date(this.now.getTime() + 400 * 86_400_000) : this.now;
    const r = checkDate(raw, element, far, opts.birthDate);
    if ('code' in r) return this.fail(r.code, r.detail, element);
    return r;
  }

  /**
   * Notes a Patient produced in this unit. Its registration for referential integrity (std_patient_ref) and the
   * release of the records that waited for it are written by `commitRegistrations`, only if the unit standardizes —
   * nothing is written for a unit that ends in quarantine, so no savepoint is needed.
   */
  registerPatient(mrn: string, patient: Patient): void {
    this.#mrnOf.set(patient.id!, mrn);
    this.#patients.set(mrn, { id: patient.id!, reference: `Patient/${patient.id}`, birthDate: patient.birthDate });
    this.#registered.push({ mrn, patient });
  }

  /**
   * Writes the registrations of this (standardized) unit and requeues the units held for them, in ONE statement
   * whatever the number of patients (a FHIR Bundle may carry many): upsert into the register, release what waited
   * for a patient registered for the first time. Returns the MRNs registered for the first time (`fresh`) and the
   * units whose holds for them were found in std_held (`held`; those still quarantined were released).
   */
  async commitRegistrations(): Promise<{ fresh: Set<string>; held: number[] }> {
    if (!this.#registered.length) return { fresh: new Set(), held: [] };
    const last = new Map(this.#registered.map((r) => [r.mrn, r.patient])); // a later Patient of the same MRN wins
    const mrns = [...last.keys()].sort(); // one order: concurrent transactions upsert the same register rows
    const key = (mrn: string) => `${this.institutionId}\u0001${mrn}`;
    const ahead = this.ahead;
    if (ahead && mrns.every((m) => ahead.unregistered.has(key(m)) || ahead.registered.has(key(m)))) {
      // Read ahead: whether each is registered for the first time is known here; written at the end of the batch.
      const fresh = new Set<string>();
      for (const [mrn, patient] of last) {
        if (ahead.unregistered.delete(key(mrn))) fresh.add(mrn);
        ahead.registered.add(key(mrn));
        ahead.registrations.push({
          institutionId: this.institutionId, mrn, patientKey: patient.id!, birthDate: patient.birthDate ?? null, unitId: this.unit.id, fresh: fresh.has(mrn),
        });
        this.#cache?.set(key(mrn), { id: patient.id!, reference: `Patient/${patient.id}`, birthDate: patient.birthDate });
      }
      return { fresh, held: [] };
    }
    // A first registration's release must see the holds a concurrent transaction committed for the patient
    // (patient-locks.ts); a patient the batch read ahead as registered cannot be a first registration.
    await lockPatientKeys(this.tx, mrns.filter((m) => !ahead?.registered.has(key(m))).map((mrn) => ({ institutionId: this.institutionId, mrn })));
    const { rows } = await this.tx.query<{ mrn: string | null; held: number | null }>(
      `WITH input AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $6::text[]) AS x(mrn, patient_key, birth_date, hold_key)),
       ins AS (
         INSERT INTO std_patient_ref (institution_id, mrn, patient_key, birth_date, first_unit)
         SELECT $1, mrn, patient_key, birth_date::date, $5 FROM input
         ON CONFLICT (institution_id, mrn) DO UPDATE SET birth_date = coalesce(EXCLUDED.birth_date, std_patient_ref.birth_date)
         RETURNING mrn, (xmax = 0) AS fresh),
       held AS (
         DELETE FROM std_held h USING ins JOIN input USING (mrn)
          WHERE ins.fresh AND h.institution_id = $1 AND h.hold_key = input.hold_key RETURNING h.unit_id),
       released AS (
         UPDATE landed_unit SET status = 'landed', attempts = 0, last_error = NULL, reasons = NULL
          WHERE id IN (SELECT unit_id FROM held) AND institution_id = $1 AND status = 'quarantined' RETURNING 1)
       SELECT mrn, NULL::bigint AS held FROM ins WHERE fresh UNION ALL SELECT NULL, unit_id FROM held`,
      [this.institutionId, mrns, mrns.map((m) => last.get(m)!.id), mrns.map((m) => last.get(m)!.birthDate ?? null), this.unit.id, mrns.map((m) => holdKey({ mrn: m }))],
    );
    for (const [mrn, patient] of last) {
      this.#cache?.set(key(mrn), { id: patient.id!, reference: `Patient/${patient.id}`, birthDate: patient.birthDate });
      // Registered now: no longer a first registration for a later unit of the batch.
      if (ahead?.unregistered.delete(key(mrn))) ahead.registered.add(key(mrn));
    }
    return { fresh: new Set(rows.flatMap((r) => (r.mrn === null ? [] : [r.mrn]))), held: rows.flatMap((r) => (r.held === null ? [] : [Number(r.held)])) };
  }

  /**
   * The institution-level Patient of a local patient id: one produced by this unit, or one registered earlier.
   * Unknown → `unknown-patient` (held until the patient arrives; the patient's arrival requeues the unit).
   */
  async patient(mrn: string | undefined, element: string): Promise<PatientRef | undefined> {
    const m = mrn?.trim();
    if (!m) return this.fail('missing-required', `${element} (local patient id) is empty`, element);
    const here = this.#patients.get(m) ?? this.#cache?.get(`${this.institutionId}\u0001${m}`);
    if (here) return here;
    const unknown = () => this.fail('unknown-patient', `unknown patient_local_id: ${m}`, element, { patient: { mrn: m } });
    if (this.ahead?.unregistered.has(`${this.institutionId}\u0001${m}`)) return unknown();
    const { rows } = await this.tx.query<{ patient_key: string; birth_date: string | null }>(
      `SELECT patient_key, birth_date FROM std_patient_ref WHERE institution_id = $1 AND mrn = $2`,
      [this.institutionId, m],
    );
    if (!rows[0]) return unknown();
    const ref = { id: rows[0].patient_key, reference: `Patient/${rows[0].patient_key}`, birthDate: rows[0].birth_date ?? undefined };
    this.#patients.set(m, ref);
    this.#cache?.set(`${this.institutionId}\u0001${m}`, ref);
    return ref;
  }

  /** The MRN a Patient of this unit was registered under (registerPatient). */
  mrnOf(patientId: string): string | undefined {
    return this.#mrnOf.get(patientId);
  }

  mrnIdentifier(mrn: string) {
    return { system: mrnSystem(this.institutionId), value: mrn };
  }

  /**
   * A local code as a CodeableConcept carrying the standard coding first and the original local coding after it
   * (FHIR: codings are alternative representations of the same concept). Unmapped → `unmapped-code` reason with the
   * local code (an operator's confirmation requeues this unit). Kinds without a shipped target system (procedures,
   * departments) keep the local coding only.
   */
  async code(kind: LocalKind, local: { system?: string; code?: string; display?: string }, element: string): Promise<CodeableConcept | undefined> {
    const code = local.code?.trim();
    const display = local.display?.trim();
    if (!code && !display) return this.fail('missing-required', `${element}: neither code nor name`, element);
    const r = await this.services.mapper.map(this.tx, { institutionId: this.institutionId, kind, system: local.system, code, display });
    if (r.status === 'standard') {
      // Stored as sent (issue 17): the reporting system's code first when a map is known, then the code as sent.
      const sent: Coding = { system: r.coding.system, code: r.coding.code, ...(r.coding.display ? { display: r.coding.display } : {}) };
      const coding: Coding[] = r.reporting ? [{ system: r.reporting.system, code: r.reporting.code, display: r.reporting.display }, sent] : [sent];
      if (r.finding === 'no-reporting-map') this.notes.push({ element, text: `${r.coding.system}|${r.coding.code} stored as sent; no map to ${r.targetSystem} is known (a data-quality finding)` });
      if (r.finding === 'not-in-tables') this.notes.push({ element, text: `${r.coding.system}|${r.coding.code} stored as sent; a valid code outside the loaded tables (a data-quality finding)` });
      return { coding, text: display || r.coding.display || r.coding.code };
    }
    const original: Coding | undefined = code ? { system: r.status === 'mapped' ? (local.system || localSys(this, kind)) : r.localSystem, code, ...(display ? { display } : {}) } : undefined;
    if (r.status === 'unmapped') {
      if (!r.targetSystem) return { ...(original ? { coding: [original] } : {}), ...(display ? { text: display } : {}) };
      if (r.invalid) {
        return this.fail('unmapped-code', `${kind} ${code ?? ''} ${display ?? ''}: ${r.invalid} — it needs a map to ${r.targetSystem} like a local code`.replace(/\s+/g, ' '), element, {
          local: { system: r.localSystem, code: r.localCode, ...(display ? { display } : {}), target: r.targetSystem },
        });
      }
      return this.fail('unmapped-code', `${kind} ${code ?? ''} ${display ?? ''} has no map to ${r.targetSystem}`.replace(/\s+/g, ' '), element, {
        local: { system: r.localSystem, code: r.localCode, ...(display ? { display } : {}), target: r.targetSystem },
      });
    }
    const coding: Coding[] = [{ system: r.coding.system, code: r.coding.code, display: r.coding.display }];
    if (original && !(original.system === r.coding.system && original.code === r.coding.code)) coding.push(original);
    return { coding, text: display || r.coding.display };
  }

  /**
   * A numeric result of a LOINC analyte normalised to its canonical unit (units.ts), with the value and unit as sent
   * kept in the `original-quantity` extension of the Quantity. Problems become quarantine reasons.
   */
  quantity(concept: Concept, rawValue: string | number | undefined, rawUnit: string | undefined, element: string): { code: string; quantity: Quantity } | undefined {
    const text = typeof rawValue === 'number' ? String(rawValue) : (rawValue ?? '').normalize('NFKC').trim();
    if (!text) return this.fail('missing-required', `${element} value is empty`, element);
    if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(text)) return this.fail('value-not-numeric', `${element} '${text}' is not a number`, element);
    const n = normalizeQuantity(concept, Number(text), rawUnit, (c) => this.terminology.lookup(SYSTEMS.loinc, c));
    if ('problem' in n) return this.fail(n.problem, n.detail, element);
    const target = this.terminology.lookup(SYSTEMS.loinc, n.code) ?? concept;
    const { min, max } = target.properties as { min?: number; max?: number };
    if ((min !== undefined && n.value < min) || (max !== undefined && n.value > max)) {
      return this.fail('value-out-of-range', `${target.display} ${n.value} ${n.unit} is outside the possible ${min}–${max}`, element);
    }
    const quantity: Quantity = { value: n.value, unit: n.unit, system: SYSTEMS.ucum, code: n.unit };
    if (n.converted || (rawUnit && rawUnit.trim() !== n.unit)) {
      quantity.extension = [{ url: EXT.originalQuantity, valueQuantity: { value: Number(text), ...(rawUnit?.trim() ? { unit: rawUnit.trim() } : {}) } }];
    }
    return { code: n.code, quantity };
  }
}

function localSys(ctx: UnitContext, kind: LocalKind): string {
  return `${SYSTEMS.localPrefix}${encodeURIComponent(ctx.institutionId)}/${kind}`;
}
