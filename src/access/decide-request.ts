/**
 * THE access decision (issue 10): one function that every request path asks — FHIR read/vread/search/history/
 * writes/operations (through src/record/fhir-access.ts), the record API (src/record/summary.ts, patients.ts), ingest
 * uploads and the admin/EMPI routes (src/api). It decides from the actor (role, institution, user), the purpose of
 * use, care relationships, resident consent and break-the-glass, and answers allow — with the basis, whether
 * identifiers are shown whole, and for searches the SQL restriction and page cap the caller MUST apply — or deny with
 * a stable code and text (→ a 403 OperationOutcome, `accessOutcome`).
 *
 * Contract: `decide(q, actor, question, ask)`; the caller gathers the facts the question names (the person of a
 * stored resource or of a search's `patient`, the stored row's submitting institution) and enforces the answer.
 * Writes have a second, synchronous half, `mayModify(actor, owner)`, checked inside the write transaction for every
 * stored row a write replaces (conditional and Bundle writes included).
 *
 * | role (token) | person-record (summary, $everything, compartment read/search naming a patient) | search naming no patient | `_history` | create / update / delete |
 * |---|---|---|---|---|
 * | clinician | care relationship, consent, or break-the-glass (decide.ts) | Patient only: needs an identifier, `_id`, phone/telecom or a name of ≥ 2 characters; identifiers masked except its own institution's Patients; ≤ 50 a page | type/system: refused | the patient's record decision, and only rows its institution submitted |
 * | institution system | relationship or consent; else only rows it submitted itself (restricted in SQL) | only rows it submitted (restricted in SQL); a selective Patient search (PDQm) the region's, others' masked | type: its own rows; system: refused | only rows it submitted (any subject) |
 * | operator | break-the-glass only (`operator`); Patient demographic search as a clinician | as clinician | refused | rows with no institution only (+ person decision for compartment data) |
 * | resident | self only | refused | refused | own Consents only |
 * | manager, researcher, auditor | refused (`role-not-permitted`); auditor reads AuditEvents | refused | refused | refused |
 * | exporter (person role) | everything, unmasked, audited (`export`) | unrestricted | allowed | refused |
 * | admin (platform-admin client) | everything, audited (`platform-admin`) | unrestricted | allowed | everything |
 *
 * Identity operations ($match, $ihe-pix, PDQm, EMPI review/merge/unmerge): `{ kind: 'identity', op }` delegates to
 * identity-operations.ts (its table: systems own-institution, operators/admin full, clinicians masked PDQ only).
 * Admin routes: `{ kind: 'admin', area }` — operations for operators and the admin, credentials for the admin only.
 * Ingest uploads: an institution's system only as itself; operators and the admin on a named institution's behalf.
 *
 * AuditEvents: never written through the API; read by auditor, operator, admin, and by a resident for their own
 * person. Resources outside the Patient compartment (Organization, Practitioner …) are governed by scopes only, except
 * that writes replace only rows the writer's institution submitted. A person's page is capped at 50 (not the trail's).
 */
import type { Actor } from '../fhir/context.ts';
import type { Queryable } from '../store/index.ts';
import { decideRecordAccess, DEFAULT_ACCESS_OPTIONS, type AccessAsk, type AccessDecision, type DenialCode } from './decide.ts';
import type { AccessBasis } from '../record/summary-types.ts';
import { residentPersonId, type PersonKeys } from './identity.ts';
import { decideIdentityOperation, type IdentityDenialCode, type IdentityOperation, type IdentityOutput } from './identity-operations.ts';

/** Largest page a person (not a system) gets from any search. */
export const USER_MAX_COUNT = 50;

/** What is asked. `person`: the golden person (with keys) the data concerns, when the caller could tell. */
export type AccessQuestion =
  | { kind: 'record'; person: PersonKeys }
  | { kind: 'read'; resourceType: string; compartment: boolean; person?: PersonKeys; owner?: string | null; stored: boolean }
  | { kind: 'search'; resourceType: string; compartment: boolean; persons: PersonKeys[]; query: Array<[string, string]> }
  | { kind: 'history'; resourceType: string; compartment: boolean }
  | { kind: 'write'; action: 'create' | 'update' | 'delete'; resourceType: string; compartment: boolean; persons: PersonKeys[]; consentPatient?: string; storedPatientKey?: string }
  | { kind: 'operation'; name: string; resourceType?: string }
  /** $match, $ihe-pix, PDQm, EMPI review/merge/unmerge: delegated to identity-operations.ts (its table and output levels). */
  | { kind: 'identity'; op: IdentityOperation }
  | { kind: 'patient-search' }
  | { kind: 'ingest-upload'; institutionId?: string }
  | { kind: 'admin'; area: 'operations' | 'credentials' };

export type RequestBasis = 'own-data' | 'export' | 'platform-admin' | 'patient-search' | 'audit-trail' | 'scope' | 'own-consent' | 'operator-admin' | 'identity';

export type RequestDenialCode =
  | DenialCode | IdentityDenialCode | 'patient-required' | 'search-too-broad' | 'export-role-required' | 'not-own-data' | 'audit-trail-only';

export interface Grant {
  allowed: true;
  basis: AccessBasis | RequestBasis;
  purpose: string;
  btg: boolean;
  reason?: string;
  /** Identifiers shown whole (a person-record grant); false: masked as in lists. */
  unmasked: boolean;
  /** Searches and history: only rows this institution submitted (fhir_resource.institution_id), inside the SQL. */
  restrictInstitution?: string;
  /** Searches: the largest page. */
  maxCount?: number;
  /** Patient search results: identifiers masked except on the Patients this institution submitted (null: on all). */
  maskExceptInstitution?: string | null;
  /** Identity operations: the output level (identity-operations.ts). */
  identityOutput?: IdentityOutput;
}

export interface Denial {
  allowed: false;
  code: RequestDenialCode;
  text: string;
  purpose: string;
  reason?: string;
}

export type RequestDecision = Grant | Denial;

type Role = NonNullable<Actor['role']> | 'system';

export function roleOf(actor: Actor): Role {
  if (actor.kind === 'system') return actor.role === 'admin' ? 'admin' : 'system';
  return (actor.role ?? 'system') as Role;
}

const AUDIT_READERS = new Set<Role>(['auditor', 'operator', 'admin']);
const PATIENT_SEARCHERS = new Set<Role>(['clinician', 'operator', 'admin']);
const INCLUDES = /^(_include|_revinclude|_has)/;

/** Decides `question` for `actor`. Never throws for a refusal: the caller turns a denial into its 403. */
export async function decide(q: Queryable, actor: Actor, question: AccessQuestion, ask: AccessAsk): Promise<RequestDecision> {
  const role = roleOf(actor);
  const purpose = ask.purpose?.trim().toUpperCase() || (role === 'exporter' ? 'HOPERAT' : undefined) || 'TREAT';
  const allow = (basis: Grant['basis'], extra: Partial<Grant> = {}): RequestDecision => ({ allowed: true, basis, purpose, btg: false, unmasked: true, ...extra });
  const deny = (code: RequestDenialCode, text: string): RequestDecision => ({ allowed: false, code, text, purpose });
  const user = actor.kind === 'user';
  const cap = user ? { maxCount: USER_MAX_COUNT } : {};
  const person = (p: PersonKeys) => decideRecordAccess(q, actor, p, { ...ask, options: ask.options ?? DEFAULT_ACCESS_OPTIONS });

  switch (question.kind) {
    case 'record':
      // As for reads of compartment data: the export role and the platform admin, every person audited.
      if (role === 'admin') return allow('platform-admin');
      if (role === 'exporter') return allow('export');
      return person(question.person);

    case 'patient-search':
      return PATIENT_SEARCHERS.has(role) ? allow('patient-search', { unmasked: false }) : deny('role-not-permitted', `The ${role} role may not search patients`);

    case 'admin':
      if (role === 'admin') return allow('platform-admin');
      if (role === 'operator' && question.area === 'operations') return allow('operator-admin');
      return deny('role-not-permitted', question.area === 'credentials' ? 'Credentials are issued by the platform admin only' : 'This needs one of the roles admin, operator');

    case 'ingest-upload':
      // An institution uploads only as itself; operators and the admin upload on an institution's behalf.
      if (role === 'system' && actor.institutionId) {
        return !question.institutionId || question.institutionId === actor.institutionId
          ? allow('own-data') : deny('not-own-data', 'An institution sends data only as itself');
      }
      if (role === 'admin' || role === 'operator') {
        return question.institutionId ? allow('operator-admin') : deny('patient-required', 'Name the institution the data is sent for (?institution=…)');
      }
      return deny('role-not-permitted', 'Only an institution (its system token), an operator or the admin can send data');

    case 'history':
      if (role === 'admin') return allow('platform-admin');
      if (role === 'exporter') return allow('export');
      if (question.resourceType === '*') return deny('export-role-required', 'System-wide history is for the export role');
      if (!question.compartment) return allow('scope');
      if (role === 'system' && actor.institutionId) return allow('own-data', { restrictInstitution: actor.institutionId });
      return deny('patient-required', 'History of patient data across patients is not open to users');

    case 'operation':
      // Patient/$everything decides as a record read (openRecord); identity operations ask `identity` below.
      return allow('scope');

    case 'identity': {
      const d = decideIdentityOperation(actor, question.op);
      if (!d.allowed) return { allowed: false, code: d.code, text: d.text, purpose: d.purpose };
      return { allowed: true, basis: 'identity', purpose: d.purpose, btg: false, unmasked: d.output === 'full', identityOutput: d.output };
    }

    case 'read':
    case 'search':
      return decideReadOrSearch();

    case 'write':
      return decideWrite();
  }

  async function decideReadOrSearch(): Promise<RequestDecision> {
    const qn = question as Extract<AccessQuestion, { kind: 'read' | 'search' }>;
    if (qn.resourceType === 'AuditEvent') return decideAuditTrail(qn);
    if (!qn.compartment) return allow('scope', cap);
    if (role === 'admin') return allow('platform-admin');
    if (role === 'exporter') return allow('export');
    if (qn.kind === 'read') {
      if (!qn.stored) return allow('scope'); // the router answers 404
      if (role === 'system' && actor.institutionId && qn.owner === actor.institutionId) return allow('own-data');
      if (!qn.person) return deny('no-care-relationship', 'This resource concerns no patient of yours');
      return person(qn.person);
    }
    if (qn.persons.length) {
      let restrict: string | undefined;
      let last: RequestDecision | undefined;
      for (const p of qn.persons) {
        const d = await person(p);
        if (!d.allowed) {
          // A system without a relationship still sees what it submitted itself.
          if (role === 'system' && actor.institutionId && d.code === 'no-care-relationship') {
            restrict = actor.institutionId;
            continue;
          }
          return d;
        }
        last = d;
      }
      return restrict ? allow('own-data', { restrictInstitution: restrict, ...cap }) : { ...(last as Grant), ...cap };
    }
    const includes = qn.query.some(([k]) => INCLUDES.test(k));
    if (role === 'system' && actor.institutionId) {
      // PDQm (ITI-78): a selective Patient search finds the region's Patients, other institutions' masked (the
      // identity table's `pdq`); anything broader lists only the institution's own rows.
      const pdq = qn.resourceType === 'Patient' && !includes && !tooBroad(qn.query) && decideIdentityOperation(actor, 'pdq').allowed;
      if (pdq) return allow('identity', { unmasked: false, maskExceptInstitution: actor.institutionId });
      return allow('own-data', { restrictInstitution: actor.institutionId });
    }
    if (qn.resourceType === 'Patient' && qn.kind === 'search' && (role === 'clinician' || role === 'operator') && !includes) {
      const broad = tooBroad(qn.query);
      if (broad) return deny('search-too-broad', broad);
      return allow('patient-search', { unmasked: false, maskExceptInstitution: actor.institutionId ?? null, ...cap });
    }
    return deny('patient-required', `A search of ${qn.resourceType} must name a patient (patient=Patient/…)`);
  }

  async function decideAuditTrail(qn: Extract<AccessQuestion, { kind: 'read' | 'search' }>): Promise<RequestDecision> {
    // The trail is not personal data to bound by the person cap: it is the auditors' (and a resident's own) view.
    if (AUDIT_READERS.has(role)) return allow('audit-trail');
    if (role === 'resident') {
      const own = await residentPersonId(q, actor);
      if (!own) return deny('not-self', 'This resident sign-in is not linked to a person');
      const mine = qn.kind === 'read' ? !qn.stored || qn.person?.personId === own : qn.persons.length > 0 && qn.persons.every((p) => p.personId === own);
      return mine ? allow('self') : deny('not-self', `Residents may list only who read their own record (patient=Patient/${own})`);
    }
    return deny('audit-trail-only', `The ${role} role may not read the audit trail`);
  }

  async function decideWrite(): Promise<RequestDecision> {
    const qn = question as Extract<AccessQuestion, { kind: 'write' }>;
    if (qn.resourceType === 'AuditEvent') return deny('role-not-permitted', 'AuditEvents are written by the platform only');
    if (qn.resourceType === 'Consent') {
      if (role === 'admin' || role === 'operator') return allow('operator-admin');
      if (role !== 'resident') return deny('role-not-permitted', 'Authorizations are granted by residents');
      const own = await residentPersonId(q, actor);
      if (qn.storedPatientKey !== undefined && qn.storedPatientKey !== own) return deny('not-self', 'Residents may change only their own authorizations');
      if (qn.action !== 'delete' && qn.consentPatient !== `Patient/${own}`) return deny('not-self', `A resident's Consent must name them as patient (Patient/${own})`);
      return allow('own-consent');
    }
    if (role === 'admin') return allow('platform-admin');
    if (role === 'system') return actor.institutionId ? allow('own-data') : deny('role-not-permitted', 'A system writes for its institution');
    if (role !== 'clinician' && role !== 'operator') return deny('role-not-permitted', `The ${role} role does not write data`);
    // A person's write of a patient's data needs the same decision as reading that patient: no bootstrap.
    if (qn.compartment) {
      if (!qn.persons.length) return deny('no-care-relationship', 'A write of patient data by a person must concern a patient they may read');
      for (const p of qn.persons) {
        const d = await person(p);
        if (!d.allowed) return d;
      }
    }
    return allow(role === 'operator' ? 'operator-admin' : 'scope');
  }
}

/**
 * The synchronous half of a write decision, checked inside the write transaction for each stored row a write
 * replaces: an institution (its system or its people) changes only what it submitted; a row no institution
 * submitted only the operators and the admin. Returns the denial text, or undefined.
 */
export function mayModify(actor: Actor, owner: string | null): string | undefined {
  const role = roleOf(actor);
  if (role === 'admin') return undefined;
  if (owner === null) return role === 'operator' ? undefined : 'Only operators change data no institution submitted';
  if (actor.institutionId && owner === actor.institutionId) return undefined;
  return 'An institution changes only the data it submitted';
}

const IDENTIFYING = new Set(['identifier', '_id', 'telecom', 'phone', 'email']);
const NAMES = new Set(['name', 'family', 'given']);

/**
 * Minimum selectivity of a people search by demographics (PDQ-like; docs/RECORD-API.md): one identifying criterion
 * — a business identifier, `_id`, a phone/telecom/email — or a name (name, or family + given together) of at least
 * two characters. Gender, birthdate, address, organization only narrow such a search. Returns why it is refused.
 */
export function tooBroad(query: Array<[string, string]>): string | undefined {
  let nameChars = 0;
  for (const [rawName, value] of query) {
    const name = rawName.split(':')[0];
    if (IDENTIFYING.has(name) && value.trim()) return undefined;
    if (NAMES.has(name)) nameChars += Math.max(...value.split(',').map((v) => Array.from(v.trim()).length));
  }
  if (nameChars >= 2) return undefined;
  return 'A people search needs an identifier, a phone, or a name of at least 2 characters (gender, birthdate or address alone are too broad)';
}
