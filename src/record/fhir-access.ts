/**
 * The record access rules and audit on the plain FHIR API (the FHIR router's access hook, src/fhir/access.ts): a
 * user's read or search of Patient-compartment resources is decided by the same rules as the record summary
 * (src/access) for the person the request concerns, and audited either way. Specifically:
 *  - read/vread/history of one resource: the person of the resource's patient_key;
 *  - search: the person of each `patient` / `subject` value; a clinical search naming no patient is refused to
 *    users (cross-patient queries are for the platform admin and institution systems); a Patient search
 *    (demographics, as PDQ) is allowed to clinicians and operators and audited as a query;
 *  - AuditEvent: written only by the platform; searched by auditors, operators and the admin, and by a resident for
 *    their own `patient` only;
 *  - Consent: a resident writes only their own (patient = their person); clinicians do not write Consents.
 * Institution systems (HIS clients) act for their institution: their reads are audited and allowed (they receive
 * data about patients they send). Operations ($everything) decide their own access. Writes are governed by scopes.
 */
import { isCompartmentType } from '../fhir/extract.ts';
import type { AccessRequest, AccessRule } from '../fhir/index.ts';
import type { Actor, RequestContext } from '../fhir/context.ts';
import { fail } from '../fhir/outcomes.ts';
import { accessOutcome, decideRecordAccess, personOfKey, resolvePerson, residentPersonId, type PersonKeys } from '../access/index.ts';
import type { RecordDeps } from './summary.ts';

const READS = new Set(['read', 'vread', 'history-instance', 'search-type']);
const WRITES = new Set(['create', 'update', 'delete']);
const AUDIT_READERS = new Set(['auditor', 'operator', 'admin']);

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

async function keyOfResource(deps: RecordDeps, type: string, id: string): Promise<string | undefined> {
  const { rows } = await deps.db.query<{ patient_key: string }>('SELECT patient_key FROM fhir_resource WHERE resource_type = $1 AND id = $2', [type, id]);
  return rows[0]?.patient_key || undefined;
}

const isUser = (a: Actor) => a.kind === 'user' && a.role !== 'admin';

export function recordAccessRule(deps: RecordDeps): AccessRule {
  const auditQuery = async (ctx: RequestContext, req: AccessRequest, outcome: 'success' | 'denied', extra: { person?: PersonKeys; desc?: string } = {}) =>
    deps.audit.record({
      actor: ctx.actor, institutionName: ctx.actor.institutionId ? await deps.institutionName?.(ctx.actor.institutionId) : undefined,
      action: req.interaction === 'search-type' ? 'E' : 'R', subtype: req.interaction, query: describe(req), personId: extra.person?.personId,
      patientKeys: extra.person?.patientKeys, purpose: ctx.actor.purposeOfUse ?? 'TREAT', outcome, outcomeDesc: extra.desc, recorded: deps.now(), requestId: ctx.requestId,
    });

  return async (ctx, req) => {
    const { actor } = ctx;
    const type = req.resourceType;
    if (type === 'AuditEvent') return auditEventRule(deps, actor, req);
    if (type === 'Consent' && WRITES.has(req.interaction)) return consentWriteRule(deps, actor, req);
    if (req.interaction === 'operation' || WRITES.has(req.interaction)) return undefined;
    if ((req.interaction === 'history-type' || req.interaction === 'history-system') && isUser(actor)) {
      return type === '*' || isCompartmentType(type) ? 'History of patient data across patients is not open to users' : undefined;
    }
    if (type === '*' || !isCompartmentType(type) || !READS.has(req.interaction)) return undefined;

    // Which persons does the request concern?
    let ids: string[] = [];
    if (req.id) {
      const key = await keyOfResource(deps, type, req.id);
      if (key) ids = [key];
    } else ids = patientValues(req.query, type);
    if (!ids.length) {
      if (!isUser(actor)) {
        await auditQuery(ctx, req, 'success');
        return undefined;
      }
      const includes = (req.query ?? []).some(([k]) => k.startsWith('_revinclude') || k.startsWith('_include') || k.startsWith('_has'));
      if (type === 'Patient' && req.interaction === 'search-type' && (actor.role === 'clinician' || actor.role === 'operator') && !includes) {
        await auditQuery(ctx, req, 'success');
        return undefined;
      }
      if (req.id) return undefined; // unknown resource: the router answers 404
      await auditQuery(ctx, req, 'denied', { desc: 'search without a patient' });
      return `A search of ${type} must name a patient (patient=Patient/…)`;
    }
    for (const id of ids) {
      const person = await personFor(deps, id);
      if (actor.kind === 'system') {
        await auditQuery(ctx, req, 'success', { person });
        continue;
      }
      const d = await decideRecordAccess(deps.db, actor, person, { purpose: actor.purposeOfUse, now: deps.now(), options: deps.access });
      if (!d.allowed) {
        await auditQuery(ctx, req, 'denied', { person, desc: d.text });
        fail(accessOutcome(d));
      }
      await auditQuery(ctx, req, 'success', { person });
    }
    return undefined;
  };
}

async function auditEventRule(deps: RecordDeps, actor: Actor, req: AccessRequest): Promise<string | undefined> {
  if (WRITES.has(req.interaction)) return 'AuditEvents are written by the platform only';
  const role = actor.role ?? (actor.kind === 'system' ? 'system' : '');
  if (AUDIT_READERS.has(role)) return undefined;
  if (role === 'resident') {
    const own = await residentPersonId(deps.db, actor);
    if (!own) return 'This resident sign-in is not linked to a person';
    if (req.id) {
      const key = await keyOfResource(deps, 'AuditEvent', req.id);
      return key === undefined || key === own ? undefined : 'Residents may list only who read their own record';
    }
    const asked = patientValues(req.query, 'AuditEvent');
    return asked.length && asked.every((p) => p === own) ? undefined : `Residents may list only who read their own record (patient=Patient/${own})`;
  }
  return `The ${role || actor.kind} role may not read the audit trail`;
}

async function consentWriteRule(deps: RecordDeps, actor: Actor, req: AccessRequest): Promise<string | undefined> {
  if (actor.role === 'admin' || actor.role === 'operator') return undefined;
  if (actor.role !== 'resident') return 'Authorizations are granted by residents';
  const own = await residentPersonId(deps.db, actor);
  const body = req.resource as { patient?: { reference?: string } } | undefined;
  if (req.id) {
    const key = await keyOfResource(deps, 'Consent', req.id);
    if (key !== undefined && key !== own) return 'Residents may change only their own authorizations';
  }
  if (req.interaction !== 'delete' && body?.patient?.reference !== `Patient/${own}`) return `A resident's Consent must name them as patient (Patient/${own})`;
  return undefined;
}

function describe(req: AccessRequest): string {
  if (req.id) return `${req.resourceType}/${req.id}`;
  const q = new URLSearchParams(req.query ?? []).toString();
  return q ? `${req.resourceType}?${q}` : req.resourceType;
}

