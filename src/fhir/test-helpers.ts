/** Shared fixtures for this module's tests: a services instance on a fresh test database, and actors. */
import type { Db } from '../store/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import type { FhirRequest, FhirResponse, RequestContext } from './context.ts';
import { outcomeStatus } from './outcomes.ts';
import { handleFhirRequest } from './router.ts';
import { createFhirServices, type FhirServices } from './services.ts';

export const BASE = 'https://hb.example/fhir';

export function systemCtx(scopes = ['system/*.read', 'system/*.write'], institutionId = 'inst-1'): RequestContext {
  return { actor: { kind: 'system', subject: 'client-1', institutionId, scopes }, baseUrl: BASE };
}

export interface Harness {
  db: Db;
  services: FhirServices;
  /** Sends a request; returns the HTTP status the HTTP layer would send, the resource and headers. */
  call(method: FhirRequest['method'], path: string, options?: { body?: unknown; query?: Array<[string, string]> | string; headers?: Record<string, string>; ctx?: RequestContext }): Promise<Answer>;
  close(): Promise<void>;
}

export interface Answer {
  status: number;
  resource: any;
  headers: Record<string, string>;
  res: FhirResponse;
}

/** A fresh database (PGlite in memory, or a private schema on PostgreSQL) with FHIR services on it. */
export async function harness(clock?: () => Date): Promise<Harness> {
  const db = await openTestDb();
  const services = createFhirServices({ db, clock });
  return {
    db,
    services,
    async call(method, path, options = {}) {
      const query = typeof options.query === 'string' ? [...new URLSearchParams(options.query)] : (options.query ?? []);
      const res = await handleFhirRequest({ method, path, query, body: options.body, headers: options.headers ?? {} }, options.ctx ?? systemCtx(), services);
      return { status: outcomeStatus(res.outcome), resource: res.resource ?? res.outcome, headers: res.headers ?? {}, res };
    },
    close: () => db.close(),
  };
}

export function patient(identifier: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:oid:2.16.156.10011.1.1', value: identifier }],
    name: [{ family: '张', given: ['三'], text: '张三' }],
    gender: 'male',
    birthDate: '1980-05-17',
    ...extra,
  };
}
