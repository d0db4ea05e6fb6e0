/**
 * The record summary (共享调阅, docs/RECORD-API.md): one person's regional record for the viewer, assembled from every
 * institution-level Patient the EMPI links to the person at the moment of the query — never from rewritten rows —
 * after the access rules allow it, and audited (allowed or denied) before anything is returned.
 */
import { accessOutcome, decide, resolvePerson, type AccessDecision, type AccessOptions, type PersonKeys } from '../access/index.ts';
import type { AuditLog } from '../audit/index.ts';
import type { Actor } from '../fhir/context.ts';
import { fail, notFoundText } from '../fhir/outcomes.ts';
import type { Db } from '../store/index.ts';
import type { Terminology } from '../terminology/index.ts';
import { buildItems } from './build.ts';
import { demographics } from './demographics.ts';
import { readFacts, readPerson } from './facts.ts';
import type { RecordSummary } from './summary-types.ts';

/** What the record domain runs on (built once by the composition root; no singletons). */
export interface RecordDeps {
  db: Db;
  audit: AuditLog;
  now: () => Date;
  /** The terminology service, for displays and unit conversion of results that reached the store unconverted. */
  terminology?: () => Promise<Terminology | undefined>;
  access?: AccessOptions;
  /** Institution display names for audit records (agent.location). */
  institutionName?: (id: string) => Promise<string | undefined>;
}

export interface ReadAsk {
  /** v3-ActReason purpose of use; ETREAT = break-the-glass. */
  purpose?: string;
  reason?: string;
  requestId?: string;
}

/**
 * Decides access to `personId` for `actor` and audits the decision; throws 404 for an unknown person and the
 * contract's 403 OperationOutcome when denied. Returns the person's keys and the grant.
 */
export async function openRecord(
  deps: RecordDeps, actor: Actor, personId: string, ask: ReadAsk, what: { subtype: string; query: string; action?: 'R' | 'E' },
): Promise<{ person: PersonKeys; decision: Extract<AccessDecision, { allowed: true }>; audit: (personName?: string) => Promise<string> }> {
  const now = deps.now();
  const person = await resolvePerson(deps.db, personId);
  if (!person) fail(notFoundText(`Person ${personId} not found`));
  // A person-record question: its grant's basis is always one of the record's (AccessBasis).
  const decision = (await decide(deps.db, actor, { kind: 'record', person }, { purpose: ask.purpose, reason: ask.reason, now, options: deps.access })) as AccessDecision;
  const institutionName = actor.institutionId ? await deps.institutionName?.(actor.institutionId) : undefined;
  const entry = {
    actor, institutionName, action: what.action ?? 'R', subtype: what.subtype, query: what.query, personId: person.personId, patientKeys: person.patientKeys,
    purpose: decision.purpose, reason: decision.reason, recorded: now, requestId: ask.requestId,
  } as const;
  if (!decision.allowed) {
    await deps.audit.record({ ...entry, outcome: 'denied', outcomeDesc: decision.text });
    fail(accessOutcome(decision));
  }
  const audit = (personName?: string) =>
    deps.audit.record({ ...entry, personName, basis: decision.basis, btg: decision.btg, outcome: 'success' });
  return { person, decision, audit };
}

/** `GET|POST /api/record/:personId/summary`: the summary, audited; 403/404 as OperationOutcome errors. */
export async function getRecordSummary(deps: RecordDeps, actor: Actor, personId: string, ask: ReadAsk = {}): Promise<RecordSummary> {
  const { person, decision, audit } = await openRecord(deps, actor, personId, ask, { subtype: 'record-summary', query: `record-summary/${personId}` });
  const personRead = readPerson(deps.db, person.personId, person.patientKeys);
  const [rows, { person: golden, links }, terminology, auditEventId] = await Promise.all([
    readFacts(deps.db, person.patientKeys),
    personRead,
    deps.terminology?.(),
    // Audited while the record is read: the summary is returned only once its AuditEvent is committed.
    personRead.then((p) => audit(p.person?.golden?.name?.value)),
  ]);
  if (!golden) fail(notFoundText(`Person ${personId} not found`));
  const items = buildItems(rows, terminology);
  const { address, ...sections } = items;
  return {
    demographics: demographics(golden, links, address, decision.unmasked),
    ...sections,
    access: { basis: decision.basis, auditEventId },
    generated: deps.now().toISOString(),
  };
}
