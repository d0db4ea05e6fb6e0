/**
 * The gate every identity operation passes, in the domain (not only in HTTP): it asks the access rules
 * (src/access/identity-operations.ts) whether the caller may run the operation and at which output level, and it
 * audits the call — allowed, refused or failed — through the platform's audit log (IHE BALP AuditEvent, action E
 * for queries, U for merges), with one AuditEvent per person the answer disclosed, that person as the Patient
 * entity, so that each resident's "who viewed me" lists the lookup. As for record reads, the answer leaves only once
 * its audit is committed.
 */
import { OperationOutcomeError } from '@medplum/core';
import { decideIdentityOperation, identityOutcome, type IdentityDenialCode, type IdentityOperation } from '../access/index.ts';
import { auditLogFor, type AuditEntry } from '../audit/index.ts';
import type { Actor } from '../fhir/context.ts';
import type { Db } from '../store/index.ts';
import { EmpiError } from './errors.ts';
import type { IdentityView } from './identity-output.ts';

/** Who calls, when, and the request id for the audit trail. */
export interface IdentityCaller {
  actor: Actor;
  now: Date;
  requestId?: string;
}

/** A person the answer disclosed, with the institution-level Patients it named. */
export interface Disclosed {
  personId: string;
  patientKeys: string[];
}

/** What a guarded call did: its value, the persons it disclosed, and — for an answered failure — why. */
export interface IdentityResult<T> {
  value: T;
  disclosed: Disclosed[];
  failure?: string;
}

export interface IdentityCall {
  op: IdentityOperation;
  /** What was asked, for the audit's Query entity (identifier values masked by the caller). */
  query: string;
  /** BALP subtype: `operation` for FHIR operations, `empi-review` … for the operator API. */
  subtype: string;
  action: 'E' | 'R' | 'U';
}

async function institutionName(db: Db, id: string | undefined): Promise<string | undefined> {
  if (!id) return undefined;
  const { rows } = await db.query<{ name: string }>('SELECT name FROM institution WHERE id = $1', [id]);
  return rows[0]?.name;
}

async function audit(db: Db, caller: IdentityCaller, call: IdentityCall, purpose: string, outcome: AuditEntry['outcome'], disclosed: Disclosed[], desc?: string) {
  const log = auditLogFor(db);
  const base: AuditEntry = {
    actor: caller.actor, institutionName: await institutionName(db, caller.actor.institutionId), action: call.action, subtype: call.subtype,
    query: call.query, purpose, outcome, outcomeDesc: desc, recorded: caller.now, requestId: caller.requestId,
  };
  if (!disclosed.length) return void (await log.record(base));
  await Promise.all(disclosed.map((d) => log.record({ ...base, personId: d.personId, patientKeys: d.patientKeys })));
}

/** A refusal already audited (the 403 OperationOutcome of identityOutcome). */
class IdentityRefusal extends OperationOutcomeError {}

/** Audits a refusal decided by the operation itself (e.g. a PIXm target domain of another institution) and throws the 403. */
export async function refuseIdentity(db: Db, caller: IdentityCaller, call: IdentityCall, purpose: string, d: { code: IdentityDenialCode; text: string }): Promise<never> {
  await audit(db, caller, call, purpose, 'denied', [], d.text);
  throw new IdentityRefusal(identityOutcome(d));
}

/**
 * Runs `fn` if the caller may run `call.op`, with the caller's view (output level and institution); audits the call
 * either way. A refusal throws a 403 OperationOutcome (`role-not-permitted`); an error `fn` throws is audited as a
 * failure and rethrown.
 */
export async function guardIdentity<T>(
  db: Db,
  caller: IdentityCaller,
  call: IdentityCall,
  fn: (view: IdentityView, purpose: string) => Promise<IdentityResult<T>>,
): Promise<T> {
  const d = decideIdentityOperation(caller.actor, call.op);
  if (!d.allowed) return refuseIdentity(db, caller, call, d.purpose, d);
  let r: IdentityResult<T>;
  try {
    r = await fn({ output: d.output, institutionId: caller.actor.institutionId }, d.purpose);
  } catch (err) {
    if (!(err instanceof IdentityRefusal)) {
      const known = err instanceof EmpiError || err instanceof OperationOutcomeError;
      await audit(db, caller, call, d.purpose, 'error', [], known ? err.message : 'internal error');
    }
    throw err;
  }
  await audit(db, caller, call, d.purpose, r.failure ? 'error' : 'success', r.disclosed, r.failure);
  return r.value;
}
