/**
 * The FHIR router's access rule (src/fhir/access.ts): for every FHIR interaction it gathers the facts the access
 * decision needs — the person (through the EMPI) of the stored resource, of a search's `patient`/`subject`, of a
 * written resource's subject; the stored row's submitting institution — asks THE decision (src/access,
 * `decide`), turns a denial into the 403 OperationOutcome, and hands the router what a grant requires: the SQL
 * restriction and page cap of a search, the per-row ownership check and writer kind of a write, and the audit.
 *
 * Audit: a read is audited for its person before it is answered; a search's AuditEvent lists EVERY person it
 * returned (or named), so each one's "who viewed me" shows it; every create/update/delete is audited with the
 * version it replaced and the one it stored; refusals are audited too. Identity operations ($match, $ihe-pix) and
 * Patient/$everything decide and audit themselves (src/empi/identity-guard.ts, src/record/everything.ts).
 */
import type { AuditEvent, Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { isCompartmentType, patientKeyOf } from '../fhir/extract.ts';
import type { AccessGrant, AccessRequest, AccessRule } from '../fhir/index.ts';
import type { RequestContext } from '../fhir/context.ts';
import { fail } from '../fhir/outcomes.ts';
import {
  accessOutcome, decide, maskPatient, mayModify, personOfKey, personsOfKeys, resolvePerson, type AccessQuestion, type PersonKeys, type RequestDecision,
} from '../access/index.ts';
import type { AuditEntry } from '../audit/index.ts';
import type { RecordDeps } from './summary.ts';

type Written = Parameters<NonNullable<AccessGrant['onWritten']>>[0][number];

/** The person (with keys) an id names: a golden person id, or an institution-level Patient's person. */
async function personFor(deps: RecordDeps, id: string): Promise<PersonKeys> {
  const direct = /^P\d{10}$/.test(id) ? await resolvePerson(deps.db, id) : undefined;
  if (direct) return direct;
  const pid = await personOfKey(deps.db, id);
  return (pid ? await resolvePerson(deps.db, pid) : undefined) ?? { personId: id, patientKeys: [id] };
}

function patientValues(query: Array<[string, string]> | undefined, type: string): string[] {
  const out: string[] = [];
  for (const [k, v] of query ?? []) {
    const name = k.split(':')[0];
    const isPatientParam = name === 'patient' || name === 'subject' || (type === 'Patient' && name === '_id');
    if (!isPatientParam) continue;
    for (const one of v.split(',')) {
      const parts = one.trim().split('/');
      const id = parts[parts.length - 1];
      if (id && (parts.length === 1 || parts[parts.length - 2] === 'Patient')) out.push(id);
    }
  }
  return [...new Set(out)];
}

interface Stored {
  patientKey: string;
  institutionId: string | null;
}

async function storedRow(deps: RecordDeps, type: string, id: string): Promise<Stored | undefined> {
  const { rows } = await deps.db.query<{ patient_key: string; institution_id: string | null }>(
    'SELECT patient_key, institution_id FROM fhir_resource WHERE resource_type = $1 AND id = $2',
    [type, id],
  );
  return rows[0] ? { patientKey: rows[0].patient_key, institutionId: rows[0].institution_id } : undefined;
}

const WRITE_ACTION = { create: 'C', update: 'U', delete: 'D' } as const;

export function recordAccessRule(deps: RecordDeps): AccessRule {
  type Extra = { action?: 'C' | 'R' | 'U' | 'D' | 'E'; persons?: PersonKeys[]; query?: string; written?: { reference: string; before?: number; after?: number } };
  const auditEntry = (ctx: RequestContext, req: AccessRequest, d: RequestDecision, extra: Extra, institutionName?: string): AuditEntry => {
    const persons = extra.persons ?? [];
    return {
      actor: ctx.actor, institutionName,
      action: extra.action ?? (req.interaction === 'search-type' || req.interaction.startsWith('history') ? 'E' : 'R'), subtype: req.interaction,
      query: extra.query ?? describe(req), personId: persons[0]?.personId, patientKeys: persons[0]?.patientKeys, persons: persons.length > 1 ? persons : undefined,
      written: extra.written, purpose: d.purpose, reason: d.reason, recorded: deps.now(), requestId: ctx.requestId,
      ...(d.allowed ? { outcome: 'success' as const, basis: d.basis, btg: d.btg } : { outcome: 'denied' as const, outcomeDesc: d.text }),
    };
  };
  const audit = async (ctx: RequestContext, req: AccessRequest, d: RequestDecision, extra: Extra = {}) => {
    const institutionName = ctx.actor.institutionId ? await deps.institutionName?.(ctx.actor.institutionId) : undefined;
    await deps.audit.record(auditEntry(ctx, req, d, extra, institutionName));
  };
  const refuse = async (ctx: RequestContext, req: AccessRequest, d: RequestDecision & { allowed: false }, extra: Parameters<typeof audit>[3] = {}): Promise<never> => {
    await audit(ctx, req, d, extra);
    fail(accessOutcome(d));
  };

  return async (ctx, req) => {
    const { actor } = ctx;
    const type = req.resourceType;
    const compartment = type !== '*' && isCompartmentType(type);
    const ask = { purpose: actor.purposeOfUse, reason: actor.purposeReason, now: deps.now(), options: deps.access };
    const ask1 = (question: AccessQuestion) => decide(deps.db, actor, question, ask);

    switch (req.interaction) {
      case 'operation':
        return undefined;

      case 'history-system':
      case 'history-type': {
        const d = await ask1({ kind: 'history', resourceType: type, compartment });
        if (!d.allowed) return refuse(ctx, req, d);
        if (type !== '*' && !compartment) return undefined;
        return { restrictInstitution: d.restrictInstitution, onResult: (b) => auditResults(ctx, req, d, [], b) };
      }

      case 'read':
      case 'vread':
      case 'history-instance': {
        if (!compartment || !req.id) return undefined;
        // The trail's readers need no facts about an AuditEvent; a resident, whose person it concerns.
        if (type === 'AuditEvent' && actor.role !== 'resident') {
          const d = await ask1({ kind: 'read', resourceType: type, compartment, stored: true });
          return d.allowed ? undefined : fail(accessOutcome(d));
        }
        const stored = await storedRow(deps, type, req.id);
        const person = stored?.patientKey ? await personFor(deps, stored.patientKey) : undefined;
        const d = await ask1({ kind: 'read', resourceType: type, compartment, person, owner: stored?.institutionId ?? null, stored: !!stored });
        if (type === 'AuditEvent') return d.allowed ? undefined : fail(accessOutcome(d)); // reading the trail is not itself audited
        if (!stored) return undefined; // unknown: the router answers 404
        if (!d.allowed) return refuse(ctx, req, d, { persons: person ? [person] : [] });
        await audit(ctx, req, d, { persons: person ? [person] : [] });
        return undefined;
      }

      case 'search-type': {
        const persons = compartment ? await Promise.all(patientValues(req.query, type).map((id) => personFor(deps, id))) : [];
        const d = await ask1({ kind: 'search', resourceType: type, compartment, persons, query: req.query ?? [] });
        if (type === 'AuditEvent') {
          if (!d.allowed) fail(accessOutcome(d));
          return { maxCount: d.maxCount, onResult: d.basis === 'self' ? async (b) => ownEntitiesOnly(b, persons) : undefined };
        }
        if (!d.allowed) return refuse(ctx, req, d, { persons });
        if (!compartment) return d.maxCount ? { maxCount: d.maxCount } : undefined;
        return { restrictInstitution: d.restrictInstitution, maxCount: d.maxCount, onResult: (b) => auditResults(ctx, req, d, persons, b) };
      }

      case 'create':
      case 'update':
      case 'delete': {
        const stored = req.id && compartment ? await storedRow(deps, type, req.id) : undefined;
        const body = req.resource && typeof req.resource === 'object' ? (req.resource as Resource) : undefined;
        const keys = new Set<string>();
        if (compartment && body && type !== 'Consent') keys.add(patientKeyOf({ ...body, resourceType: type } as Resource));
        if (stored?.patientKey) keys.add(stored.patientKey);
        keys.delete('');
        const persons = actor.kind === 'user' && type !== 'Consent' ? await Promise.all([...keys].map((k) => personFor(deps, k))) : [];
        const d = await ask1({
          kind: 'write', action: req.interaction, resourceType: type, compartment, persons,
          consentPatient: (body as { patient?: { reference?: string } } | undefined)?.patient?.reference, storedPatientKey: stored?.patientKey,
        });
        const action = WRITE_ACTION[req.interaction];
        if (!d.allowed) return refuse(ctx, req, d, { action, persons });
        const notOwn = (row: { resourceType: string; id: string; institutionId: string | null }): (RequestDecision & { allowed: false }) | undefined => {
          const why = mayModify(actor, row.institutionId);
          return why ? { allowed: false, code: 'not-own-data', text: `${why} (${row.resourceType}/${row.id})`, purpose: d.purpose } : undefined;
        };
        // A resident's own Consents carry no institution: their ownership is the decision's storedPatientKey check.
        const owned = type !== 'Consent';
        const known = owned && stored && req.id ? notOwn({ resourceType: type, id: req.id, institutionId: stored.institutionId }) : undefined;
        if (known) return refuse(ctx, req, known, { action, persons });
        return {
          writeAs: {
            userWritten: actor.kind === 'user',
            // Conditional and Bundle targets are known only inside the write's transaction: checked there, row by row.
            checkStored: owned ? (row) => {
              const denial = notOwn(row);
              if (!denial) return;
              // Inside the transaction nothing may wait on the audit (PGlite runs one transaction at a time): queued.
              deps.audit.record(auditEntry(ctx, req, denial, { action, query: `${row.resourceType}/${row.id}` })).catch(() => undefined);
              fail(accessOutcome(denial));
            } : undefined,
          },
          onWritten: (written) => auditWrites(ctx, req, d, written),
        };
      }
    }
  };

  /** The audit of a search or history page: every person whose data it returned (resolved through the EMPI). */
  async function auditResults(ctx: RequestContext, req: AccessRequest, d: RequestDecision & { allowed: true }, named: PersonKeys[], b: Bundle): Promise<Bundle> {
    const resources = (b.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    const keys = [...new Set(resources.map(patientKeyOf).filter(Boolean))];
    const persons = named.length ? named : await personsOf(keys);
    const masking = d.maskExceptInstitution !== undefined ? maskedPatients(resources, d.maskExceptInstitution) : undefined;
    const [masked] = await Promise.all([masking, audit(ctx, req, d, { persons })]);
    if (!masked?.size) return b;
    return { ...b, entry: b.entry?.map((e) => (e.resource && masked.has(e.resource.id as string) ? { ...e, resource: maskPatient(e.resource as Patient) } : e)) };
  }

  /** Patient keys grouped by their person (an unlinked key is a person of its own). */
  async function personsOf(keys: string[]): Promise<PersonKeys[]> {
    const of = await personsOfKeys(deps.db, keys);
    const by = new Map<string, string[]>();
    for (const k of keys) {
      const pid = of.get(k) ?? k;
      by.set(pid, [...(by.get(pid) ?? []), k]);
    }
    return [...by].map(([personId, patientKeys]) => ({ personId, patientKeys }));
  }

  /** Ids of the Patients among `resources` to mask: those another institution submitted. */
  async function maskedPatients(resources: Resource[], except: string | null): Promise<Set<string>> {
    const ids = resources.filter((r) => r.resourceType === 'Patient').map((r) => r.id as string);
    if (!ids.length) return new Set();
    if (except === null) return new Set(ids);
    const { rows } = await deps.db.query<{ id: string }>(
      `SELECT id FROM fhir_resource WHERE patient_key = ANY($1::text[]) AND resource_type = 'Patient' AND id = ANY($1::text[]) AND institution_id IS DISTINCT FROM $2`,
      [ids, except],
    );
    return new Set(rows.map((r) => r.id));
  }

  /** One AuditEvent per create/update/delete: who, what, the version replaced and the version stored. */
  async function auditWrites(ctx: RequestContext, req: AccessRequest, d: RequestDecision, written: Written[]): Promise<void> {
    const of = await personsOfKeys(deps.db, [...new Set(written.map((w) => w.patientKey).filter(Boolean))]);
    await Promise.all(written.map((w) => {
      const pid = w.patientKey ? (of.get(w.patientKey) ?? w.patientKey) : undefined;
      return audit(ctx, req, d, {
        action: w.deleted ? 'D' : w.before === undefined ? 'C' : 'U', query: `${w.resourceType}/${w.id}`,
        persons: pid ? [{ personId: pid, patientKeys: [w.patientKey] }] : [],
        written: { reference: `${w.resourceType}/${w.id}`, before: w.before, after: w.after },
      });
    }));
  }
}

/**
 * A resident's view of who read their record: an event of a search that returned several people keeps only the
 * resident's own Patient entities (the others are not theirs to see).
 */
function ownEntitiesOnly(b: Bundle, own: PersonKeys[]): Bundle {
  const mine = new Set(own.flatMap((p) => [p.personId, ...p.patientKeys].map((k) => `Patient/${k}`)));
  return {
    ...b,
    entry: b.entry?.map((e) => {
      const ev = e.resource as AuditEvent | undefined;
      if (!ev?.entity) return e;
      const entity = ev.entity.filter((x) => !x.what?.reference?.startsWith('Patient/') || mine.has(x.what.reference));
      return entity.length === ev.entity.length ? e : { ...e, resource: { ...ev, entity } };
    }),
  };
}

function describe(req: AccessRequest): string {
  if (req.id) return `${req.resourceType}/${req.id}`;
  const q = new URLSearchParams(req.query ?? []).toString();
  return q ? `${req.resourceType}?${q}` : req.resourceType;
}
