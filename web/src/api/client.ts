/**
 * The web console's one typed client of the HealthBrain API (docs/RECORD-API.md). Pages call only `Api`; the HTTP
 * implementation talks to the server, and in a fixtures build (`vite --mode fixtures`, `?fixtures=1`) the dev
 * fixture implementation answers instead, behind a visible banner.
 */
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import type {
  Me,
  PatientSearchBy,
  PatientSearchResult,
  RecordSummary,
  RegionOverview,
} from '../../../src/record/summary-types.ts';
import { type AuditRow, auditRows } from './audit-map.ts';
import { outcomeCode, outcomeText } from './outcome.ts';

export interface DemoUser {
  role: Me['role'];
  name: string;
  institution?: { id: string; name: string };
}

export interface AuditQuery {
  patient?: string;
  agent?: string;
  date?: string;
  outcome?: 'success' | 'denied' | 'error';
}

export interface Api {
  demoUsers(): Promise<DemoUser[]>;
  demoLogin(role: Me['role'], institution?: string): Promise<{ token: string; user: Me }>;
  me(token: string): Promise<Me>;
  searchPatients(q: string, by: PatientSearchBy, institution?: string): Promise<PatientSearchResult>;
  summary(personId: string): Promise<RecordSummary>;
  breakGlass(personId: string, reason: string): Promise<RecordSummary>;
  overview(): Promise<RegionOverview>;
  audit(query: AuditQuery): Promise<AuditRow[]>;
}

/** An API error: HTTP status and the OperationOutcome the server sent, with its detail code when present. */
export class ApiError extends Error {
  readonly status: number;
  readonly outcome?: OperationOutcome;
  readonly code?: string;
  constructor(status: number, outcome?: OperationOutcome, fallback = `HTTP ${status}`) {
    super(outcomeText(outcome) ?? fallback);
    this.name = 'ApiError';
    this.status = status;
    this.outcome = outcome;
    this.code = outcomeCode(outcome);
  }
}

const OUTCOME_TO_FHIR: Record<NonNullable<AuditQuery['outcome']>, string> = { success: '0', denied: '4', error: '8' };

/** The HTTP implementation. `getToken` is read on every call so sign-in and sign-out need no new client. */
export function createHttpApi(getToken: () => string | undefined, fetchImpl: typeof fetch = fetch): Api {
  async function call<T>(method: string, path: string, body?: unknown, token = getToken()): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json, application/fhir+json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetchImpl(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const outcome = (json as { resourceType?: string } | undefined)?.resourceType === 'OperationOutcome' ? (json as OperationOutcome) : undefined;
      throw new ApiError(res.status, outcome, `HTTP ${res.status} ${res.statusText}`.trim());
    }
    return json as T;
  }
  const enc = encodeURIComponent;
  return {
    demoUsers: () => call('GET', '/auth/demo-users'),
    async demoLogin(role, institution) {
      const r = await call<{ access_token: string; user: Me }>('POST', '/auth/demo-login', { role, institution });
      return { token: r.access_token, user: r.user };
    },
    me: (token) => call('GET', '/api/me', undefined, token),
    searchPatients: (q, by, institution) =>
      call('GET', `/api/patients?q=${enc(q)}&by=${by}${institution ? `&institution=${enc(institution)}` : ''}`),
    summary: (personId) => call('GET', `/api/record/${enc(personId)}/summary`),
    breakGlass: (personId, reason) => call('POST', `/api/record/${enc(personId)}/summary`, { purposeOfUse: 'ETREAT', reason }),
    overview: () => call('GET', '/admin/overview'),
    async audit(query) {
      const params = new URLSearchParams({ _sort: '-date', _count: '100' });
      if (query.patient) params.set('patient', query.patient.includes('/') ? query.patient : `Patient/${query.patient}`);
      if (query.agent) params.set('agent', query.agent);
      if (query.date) params.set('date', query.date);
      if (query.outcome) params.set('outcome', OUTCOME_TO_FHIR[query.outcome]);
      return auditRows(await call<Bundle>('GET', `/fhir/AuditEvent?${params}`));
    },
  };
}

/** Whether this page asked for fixtures and the build allows them (never in a production build). */
export function fixturesRequested(): boolean {
  return import.meta.env.VITE_FIXTURES === '1' && new URLSearchParams(location.search).has('fixtures');
}

/** The API the app uses: the fixture one when requested and built in, the HTTP one otherwise. */
export async function createApi(getToken: () => string | undefined): Promise<{ api: Api; fixtures: boolean }> {
  if (import.meta.env.VITE_FIXTURES === '1' && fixturesRequested()) {
    const { createFixtureApi } = await import('../dev/fixture-api.ts');
    return { api: createFixtureApi(getToken), fixtures: true };
  }
  return { api: createHttpApi(getToken), fixtures: false };
}
