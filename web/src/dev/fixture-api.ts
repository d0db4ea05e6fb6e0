/**
 * DEV-ONLY implementation of `Api` over `fixtures.ts`. Imported dynamically by `createApi` only in a fixtures build
 * with `?fixtures=1`; a production build does not contain it.
 */
import type { Me, RecordSummary } from '../../../src/record/summary-types.ts';
import { ACCESS_OUTCOME_SYSTEM, NO_CARE_RELATIONSHIP } from '../../../src/record/summary-types.ts';
import { auditRows } from '../api/audit-map.ts';
import { type Api, ApiError, type DemoUser } from '../api/client.ts';
import { AUDIT_EVENTS, COMMUNITY, HOSPITAL, NO_RELATIONSHIP_PERSON, OVERVIEW, PATIENTS, TOWNSHIP, WANG_JIANGUO } from './fixtures.ts';

const USERS: DemoUser[] = [
  { role: 'clinician', name: '周志明', institution: HOSPITAL },
  { role: 'clinician', name: '陈丽华', institution: COMMUNITY },
  { role: 'clinician', name: '沈国平', institution: TOWNSHIP },
  { role: 'operator', name: '许文静' },
  { role: 'auditor', name: '蒋文斌' },
  { role: 'resident', name: '王建国' },
  { role: 'manager', name: '钱卫东' },
];

const delay = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 60));

function summaryFor(personId: string, basis: RecordSummary['access']['basis']): RecordSummary {
  const hit = PATIENTS.find((p) => p.personId === personId);
  if (!hit) throw new ApiError(404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', details: { text: `Person ${personId} not found` } }] });
  if (personId === WANG_JIANGUO.demographics.personId) return { ...WANG_JIANGUO, access: { basis } };
  // Other persons: the same shape with their own demographics and a thinner record.
  return {
    ...WANG_JIANGUO,
    demographics: { ...WANG_JIANGUO.demographics, ...hit, sources: {}, links: hit.institutions.map((i, n) => ({ institution: i, mrn: `MRN${n}${hit.personId.slice(-4)}`, patientId: `pt-${n}` })) },
    problems: WANG_JIANGUO.problems.slice(0, 1),
    medications: WANG_JIANGUO.medications.slice(0, 1),
    encounters: WANG_JIANGUO.encounters.slice(4, 6),
    labs: WANG_JIANGUO.labs.slice(1, 2),
    exams: [],
    allergies: [],
    access: { basis },
  };
}

/** `getToken` gives the signed-in fixture token (`fixture.<role>`), so the fixture knows who is asking after a reload. */
export function createFixtureApi(getToken: () => string | undefined): Api {
  const currentRole = () => (getToken()?.split('.')[1] ?? 'clinician') as Me['role'];
  return {
    demoUsers: () => delay(USERS),
    async demoLogin(asRole, institution) {
      const role = asRole;
      const u = USERS.find((x) => x.role === role && (!institution || x.institution?.id === institution)) ?? USERS[0]!;
      const user: Me = { subject: `demo-${role}`, name: u.name, role: u.role, institution: u.institution, personId: role === 'resident' ? 'p-100231' : undefined };
      return delay({ token: `fixture.${role}`, user });
    },
    me: () => Promise.reject(new ApiError(404)),
    async searchPatients(q) {
      const s = q.trim();
      const hits = PATIENTS.filter((p) => !s || p.name.includes(s) || s.includes(p.name) || p.residentIdMasked?.endsWith(s.slice(-4)));
      return delay({ total: hits.length, hits });
    },
    async summary(personId) {
      if (personId === NO_RELATIONSHIP_PERSON) {
        throw new ApiError(403, {
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'forbidden', details: { coding: [{ system: ACCESS_OUTCOME_SYSTEM, code: NO_CARE_RELATIONSHIP }], text: 'No care relationship with this patient' } }],
        });
      }
      const role = currentRole();
      return delay(summaryFor(personId, role === 'resident' ? 'self' : role === 'operator' ? 'operator' : 'care-relationship'));
    },
    breakGlass: (personId) => delay(summaryFor(personId, 'break-the-glass')),
    overview: () => delay(OVERVIEW),
    audit: async (query) => {
      const rows = auditRows({ resourceType: 'Bundle', type: 'searchset', entry: AUDIT_EVENTS.map((resource) => ({ resource })) });
      return delay(
        rows.filter(
          (r) =>
            (!query.patient || r.patientRef?.endsWith(query.patient)) &&
            (!query.agent || r.agentName.includes(query.agent) || r.agentId === query.agent) &&
            (!query.outcome || r.outcome === query.outcome) &&
            (!query.date || r.recorded.startsWith(query.date)),
        ),
      );
    },
  };
}
