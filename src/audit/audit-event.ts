/**
 * The FHIR R4 AuditEvent (https://hl7.org/fhir/R4/auditevent.html) written for every read of personal data, shaped
 * after IHE Basic Audit Log Patterns (BALP, https://profiles.ihe.net/ITI/BALP/): a RESTful read/search/operation,
 * the user as the requesting agent (with platform role and institution), the golden person as the Patient entity,
 * the purpose of use (v3-ActReason: TREAT, ETREAT …), the outcome (0 success, 4 refused, 8 failed), and — for a
 * break-the-glass read — the `BTG` security label that puts it on the review list.
 */
import type { AuditEvent, AuditEventEntity } from '@medplum/fhirtypes';
import { maskQueryText } from '../access/mask.ts';
import type { Actor } from '../fhir/context.ts';

export const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const PLATFORM_ROLE_SYSTEM = 'https://healthbrain.cn/fhir/CodeSystem/platform-role';
export const USER_ID_SYSTEM = 'https://healthbrain.cn/fhir/sid/user';
export const ACCESS_BASIS_SYSTEM = 'https://healthbrain.cn/fhir/CodeSystem/access-basis';

/** What one audited access was. */
export interface AuditEntry {
  actor: Actor;
  /** Display name of the actor's institution (agent.location.display). */
  institutionName?: string;
  /** BALP action: R read, E execute (search, operation), C/U/D for writes. */
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  /** RESTful interaction or platform view: read, search-type, operation, record-summary, patient-search … */
  subtype: string;
  /** What was asked for, e.g. `record-summary`, `Observation?patient=…`, `Patient/$everything`. */
  query?: string;
  /** The golden person (EMPI) the access concerned. */
  personId?: string;
  personName?: string;
  /** The institution-level Patients the access reached. */
  patientKeys?: string[];
  /**
   * Every person a search (or a write) reached, each with its institution-level Patients (issue 10): one Patient
   * entity per person, so that each one's "who viewed me" (`AuditEvent?patient=Patient/<person>`) lists it.
   */
  persons?: Array<{ personId: string; patientKeys: string[] }>;
  /** A write (action C/U/D): the resource and the version it replaced and the version it stored. */
  written?: { reference: string; before?: number; after?: number };
  /** v3-ActReason purpose of use. */
  purpose: string;
  /** Stated reason (break-the-glass). */
  reason?: string;
  /** Why access was granted (care-relationship, resident-authorization, break-the-glass, self, operator …). */
  basis?: string;
  outcome: 'success' | 'denied' | 'error';
  outcomeDesc?: string;
  /** Break-the-glass: flagged for review. */
  btg?: boolean;
  recorded: Date;
  requestId?: string;
}

const OUTCOME = { success: '0', denied: '4', error: '8' } as const;

/** The AuditEvent resource for one entry (deterministic: the same entry and id give the same JSON). */
export function toAuditEvent(id: string, e: AuditEntry): AuditEvent {
  const entity: AuditEventEntity[] = [];
  if (e.personId) {
    entity.push({
      what: { reference: `Patient/${e.personId}`, ...(e.personName ? { display: e.personName } : {}) },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    });
  }
  for (const key of e.patientKeys ?? []) {
    if (key === e.personId) continue;
    entity.push({ what: { reference: `Patient/${key}` }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' } });
  }
  for (const p of e.persons ?? []) {
    if (p.personId === e.personId) continue;
    entity.push({
      what: { reference: `Patient/${p.personId}` },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    });
    for (const key of p.patientKeys) {
      if (key !== p.personId) entity.push({ what: { reference: `Patient/${key}` }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' } });
    }
  }
  if (e.written) {
    const detail = [
      ...(e.written.before !== undefined ? [{ type: 'versionId-before', valueString: String(e.written.before) }] : []),
      ...(e.written.after !== undefined ? [{ type: 'versionId-after', valueString: String(e.written.after) }] : []),
    ];
    entity.push({
      what: { reference: e.written.after !== undefined ? `${e.written.reference}/_history/${e.written.after}` : e.written.reference },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' },
      ...(detail.length ? { detail } : {}),
    });
  }
  if (e.query || e.reason) {
    entity.push({
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' },
      ...(e.query ? { description: maskQueryText(e.query) } : {}), // issue 10: the trail is no clear copy of identifiers
      ...(e.reason ? { detail: [{ type: 'break-the-glass-reason', valueString: e.reason }] } : {}),
    });
  }
  const purpose = [{ coding: [{ system: ACT_REASON, code: e.purpose }] }];
  return {
    resourceType: 'AuditEvent',
    id,
    ...(e.btg ? { meta: { security: [{ system: ACT_REASON, code: 'BTG', display: 'break the glass' }] } } : {}),
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: e.subtype }],
    action: e.action,
    recorded: e.recorded.toISOString(),
    outcome: OUTCOME[e.outcome],
    ...(e.outcomeDesc ? { outcomeDesc: e.outcomeDesc } : {}),
    purposeOfEvent: purpose,
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
        role: [{ coding: [{ system: PLATFORM_ROLE_SYSTEM, code: e.actor.role ?? e.actor.kind }] }],
        who: { identifier: { system: USER_ID_SYSTEM, value: e.actor.subject }, display: e.actor.subject },
        altId: e.actor.subject,
        requestor: true,
        ...(e.actor.institutionId ? { location: { display: e.institutionName ?? e.actor.institutionId } } : {}),
        ...(e.basis ? { policy: [`${ACCESS_BASIS_SYSTEM}#${e.basis}`] } : {}),
        purposeOfUse: purpose,
      },
    ],
    source: {
      site: 'HealthBrain',
      observer: { display: 'HealthBrain platform' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    ...(entity.length ? { entity } : {}),
  };
}

/** JSON with object keys sorted at every level (RFC 8785 style), so a hash survives a jsonb round trip. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}
