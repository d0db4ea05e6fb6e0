/**
 * The authorization matrix of issue 10: every role × resource kind × relationship / consent / break-the-glass ×
 * read / search / history / write / delete / operation, asked of a LISTENING server over real HTTP (fetch), on the
 * engine the suite runs on (PGlite, or PostgreSQL with DATABASE_URL). Each cell is the status the access model
 * promises (src/access/decide-request.ts, identity-operations.ts; docs/SECURITY.md); a denial also names its
 * access-outcome code. The region is src/record/test-fixture.ts: 张三 seen at A (30 days ago: a care relationship),
 * B (800 days ago: lapsed) and C; 李四 at D only.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { seedRegion, type Region } from '../record/test-fixture.ts';
import { openTestPlatform, type TestPlatform } from './testing.ts';

type Actor =
  | 'system A (relationship)' | 'system D (none)' | 'clinician A (relationship)' | 'clinician D (none)' | 'clinician E (consent)'
  | 'clinician D (break-the-glass)' | 'resident 张三' | 'resident 李四' | 'operator' | 'manager' | 'researcher' | 'auditor' | 'exporter' | 'admin';

interface Ask {
  method?: string;
  url: string;
  body?: unknown;
  /** Runs first (as the admin), e.g. to make the row a delete removes. Returns values for the url. */
  setup?: () => Promise<Record<string, string>>;
}

/** One row of the matrix: the request, and per actor the status (and for a 403 the outcome code, when it is stable). */
interface Row {
  what: string;
  ask: Ask;
  expect: Partial<Record<Actor, number | [number, string]>>;
  /** Status for every actor not listed. */
  otherwise: number | [number, string];
  /** Ask the institution systems last (their submissions create care relationships that would change later cells). */
  systemsLast?: boolean;
}

const ACTORS: Actor[] = [
  'system A (relationship)', 'system D (none)', 'clinician A (relationship)', 'clinician D (none)', 'clinician E (consent)',
  'clinician D (break-the-glass)', 'resident 张三', 'resident 李四', 'operator', 'manager', 'researcher', 'auditor', 'exporter', 'admin',
];

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

describe('the authorization matrix over real HTTP (issue 10)', () => {
  let p: TestPlatform;
  let r: Region;
  let base: string;
  let tag: string;
  const tokens = new Map<Actor, string>();
  let adminToken: string;

  const call = async (token: string, ask: Ask, vars: Record<string, string> = {}, extra: Record<string, string> = {}) => {
    const fill = (t: string) => t.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? `{${k}}`);
    const url = fill(ask.url);
    const res = await fetch(base + url, {
      method: ask.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(ask.body ? { 'content-type': 'application/fhir+json' } : {}), ...extra },
      body: ask.body ? fill(JSON.stringify(ask.body)) : undefined,
    });
    const text = await res.text();
    return { status: res.status, text };
  };

  before(async () => {
    p = await openTestPlatform();
    r = await seedRegion(p);
    tag = r.keys.a.slice(3);
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(p.app.server.address() as AddressInfo).port}`;
    adminToken = await p.adminToken();
    const admin = (url: string, payload?: unknown) => call(adminToken, { method: 'POST', url, body: payload });
    const person = async (payload: Record<string, string | undefined>) => JSON.parse((await admin('/admin/tokens', payload)).text).access_token as string;
    const system = async (institution: string) => JSON.parse((await admin(`/admin/institutions/${institution}/token`)).text).access_token as string;
    const e = await p.addInstitution();
    const resident = await person({ role: 'resident', user: r.person });
    const grant = await fetch(base + '/api/consents', { method: 'POST', headers: { authorization: `Bearer ${resident}`, 'content-type': 'application/json' }, body: JSON.stringify({ institution: e.id }) });
    assert.equal(grant.status, 201, await grant.text());
    const set: Array<[Actor, Promise<string>]> = [
      ['system A (relationship)', system(r.a.id)],
      ['system D (none)', system(r.d.id)],
      ['clinician A (relationship)', person({ role: 'clinician', institution: r.a.id, user: 'dr-a' })],
      ['clinician D (none)', person({ role: 'clinician', institution: r.d.id, user: 'dr-d' })],
      ['clinician E (consent)', person({ role: 'clinician', institution: e.id, user: 'dr-e' })],
      ['clinician D (break-the-glass)', person({ role: 'clinician', institution: r.d.id, user: 'dr-d-btg' })],
      ['resident 张三', Promise.resolve(resident)],
      ['resident 李四', person({ role: 'resident', user: r.other })],
      ['operator', person({ role: 'operator', user: 'op-1' })],
      ['manager', person({ role: 'manager', user: 'mgr-1' })],
      ['researcher', person({ role: 'researcher', user: 'res-1' })],
      ['auditor', person({ role: 'auditor', user: 'aud-1' })],
      ['exporter', person({ role: 'exporter', user: 'export-job' })],
      ['admin', Promise.resolve(adminToken)],
    ];
    for (const [actor, t] of set) tokens.set(actor, await t);
  });
  after(async () => p.close());

  /** Break-the-glass on the FHIR API: purpose of use ETREAT with a stated reason, per request. */
  const headersOf = (actor: Actor): Record<string, string> =>
    actor === 'clinician D (break-the-glass)' ? { 'x-purpose-of-use': 'ETREAT', 'x-break-glass-reason': encodeURIComponent('急诊昏迷，需要既往史') } : {};

  const rows = (): Row[] => [
    {
      what: 'read another institution’s Observation about 张三 (C’s glucose)',
      ask: { url: `/fhir/Observation/gc-${tag}` },
      expect: {
        'system A (relationship)': 200, 'clinician A (relationship)': 200, 'clinician E (consent)': 200, 'clinician D (break-the-glass)': 200,
        'resident 张三': 200, exporter: 200, admin: 200,
        'system D (none)': [403, 'no-care-relationship'], 'clinician D (none)': [403, 'no-care-relationship'], 'resident 李四': [403, 'not-self'],
        operator: [403, 'no-care-relationship'], auditor: 403,
      },
      otherwise: [403, 'role-not-permitted'],
    },
    {
      what: 'search Observations naming 张三',
      ask: { url: `/fhir/Observation?patient=Patient/${'{ka}'}` },
      expect: {
        'system A (relationship)': 200, 'clinician A (relationship)': 200, 'clinician E (consent)': 200, 'clinician D (break-the-glass)': 200,
        'resident 张三': 200, exporter: 200, admin: 200,
        // A system without a relationship is answered from its own rows only (none here): restricted, not refused.
        'system D (none)': 200,
        'clinician D (none)': [403, 'no-care-relationship'], 'resident 李四': [403, 'not-self'], operator: [403, 'no-care-relationship'], auditor: 403,
      },
      otherwise: [403, 'role-not-permitted'],
    },
    {
      what: 'search Conditions naming no patient',
      ask: { url: '/fhir/Condition?_count=100' },
      expect: { 'system A (relationship)': 200, 'system D (none)': 200, exporter: 200, admin: 200 },
      otherwise: 403,
    },
    {
      what: 'system-wide history',
      ask: { url: '/fhir/_history?_count=10' },
      expect: { exporter: 200, admin: 200 },
      otherwise: 403,
    },
    {
      what: 'Patient/$everything of 张三',
      ask: { url: `/fhir/Patient/${'{ka}'}/$everything` },
      expect: {
        'system A (relationship)': 200, 'clinician A (relationship)': 200, 'clinician E (consent)': 200, 'clinician D (break-the-glass)': 200, 'resident 张三': 200, exporter: 200, admin: 200,
        'system D (none)': [403, 'no-care-relationship'], 'clinician D (none)': [403, 'no-care-relationship'], 'resident 李四': [403, 'not-self'],
        operator: [403, 'no-care-relationship'], auditor: 403,
      },
      otherwise: [403, 'role-not-permitted'],
    },
    {
      what: 'Patient/$match',
      ask: { method: 'POST', url: '/fhir/Patient/$match', body: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', name: [{ text: '张三' }], gender: 'male', birthDate: '1958-03-12' } }] } },
      expect: { 'system A (relationship)': 200, 'system D (none)': 200, operator: 200, admin: 200, auditor: 403 },
      otherwise: [403, 'role-not-permitted'],
    },
    {
      what: 'Patient/$ihe-pix by A’s record number',
      ask: { url: `/fhir/Patient/$ihe-pix?sourceIdentifier=${encodeURIComponent('https://healthbrain.cn/fhir/sid/mrn/')}{aid}%7CA-001` },
      expect: { 'system A (relationship)': 200, 'system D (none)': 200, operator: 200, admin: 200, auditor: 403 },
      otherwise: [403, 'role-not-permitted'],
    },
    {
      what: 'a people search by sex alone (a register dump)',
      ask: { url: '/fhir/Patient?gender=male&_count=1000' },
      expect: { 'system A (relationship)': 200, 'system D (none)': 200, exporter: 200, admin: 200, 'clinician A (relationship)': [403, 'search-too-broad'], 'clinician D (none)': [403, 'search-too-broad'], 'clinician E (consent)': [403, 'search-too-broad'], 'clinician D (break-the-glass)': [403, 'search-too-broad'], operator: [403, 'search-too-broad'] },
      otherwise: 403,
    },
    {
      what: 'the audit trail of 张三',
      ask: { url: `/fhir/AuditEvent?patient=Patient/${'{person}'}` },
      expect: { auditor: 200, operator: 200, admin: 200, 'resident 张三': 200 },
      otherwise: 403,
    },
    {
      what: 'write an AuditEvent',
      ask: { method: 'POST', url: '/fhir/AuditEvent', body: { resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: new Date().toISOString(), agent: [{ requestor: true }], source: { observer: { display: 'x' } } } },
      expect: {},
      otherwise: 403,
    },
    {
      what: 'the record summary of 张三',
      ask: { url: '/api/record/{person}/summary' },
      expect: {
        'clinician A (relationship)': 200, 'clinician E (consent)': 200, 'resident 张三': 200, 'system A (relationship)': 200, exporter: 200, admin: 200,
        'clinician D (none)': 403, 'system D (none)': 403, 'resident 李四': 403, operator: 403, manager: 403, researcher: 403, auditor: 403,
      },
      otherwise: 403,
    },
    {
      what: 'update institution A’s Observation',
      ask: {
        method: 'PUT', url: `/fhir/Observation/ga-${tag}`,
        body: {
          resourceType: 'Observation', id: `ga-${tag}`, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '14749-6' }] },
          subject: { reference: `Patient/${'{ka}'}` }, effectiveDateTime: daysAgo(30), valueQuantity: { value: 5.7, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
        },
      },
      expect: { 'system A (relationship)': 200, 'clinician A (relationship)': 200, admin: 200 },
      otherwise: 403,
    },
    {
      what: 'delete institution A’s Encounter',
      ask: {
        method: 'DELETE', url: '/fhir/Encounter/{enc}',
        setup: async () => {
          const enc = `del-${Math.random().toString(36).slice(2, 9)}`;
          await p.deps.fhirServices.repo.update({ institutionId: r.a.id }, 'Encounter', enc, {
            resourceType: 'Encounter', id: enc, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
            subject: { reference: `Patient/${r.keys.a}` }, period: { start: daysAgo(3) },
          });
          return { enc };
        },
      },
      expect: { 'system A (relationship)': 200, 'clinician A (relationship)': 200, admin: 200 },
      otherwise: 403,
    },
    {
      what: 'create an Encounter about 张三',
      ask: {
        method: 'POST', url: '/fhir/Encounter',
        body: { resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${'{ka}'}` }, period: { start: daysAgo(1) } },
      },
      systemsLast: true,
      // An institution's system submits its own encounters (how relationships arise); a person writes only where they may read.
      expect: {
        'system A (relationship)': 201, 'system D (none)': 201, 'clinician A (relationship)': 201, 'clinician E (consent)': 201, 'clinician D (break-the-glass)': 201, admin: 201,
        'clinician D (none)': [403, 'no-care-relationship'],
      },
      otherwise: 403,
    },
  ];

  it('answers every cell as the access model says', async () => {
    const wrong: string[] = [];
    for (const row of rows()) {
      const order = row.systemsLast ? [...ACTORS.filter((a) => !a.startsWith('system')), ...ACTORS.filter((a) => a.startsWith('system'))] : ACTORS;
      for (const actor of order) {
        // The record viewer's break-the-glass is a POST with purposeOfUse, covered by record-routes.test.ts.
        if (row.ask.url.startsWith('/api/') && actor === 'clinician D (break-the-glass)') continue;
        const want = row.expect[actor] ?? row.otherwise;
        const [status, code] = Array.isArray(want) ? want : [want, undefined];
        const vars = { ka: r.keys.a, person: r.person, aid: r.a.id, ...(await row.ask.setup?.()) };
        const got = await call(tokens.get(actor)!, row.ask, vars, headersOf(actor));
        let gotCode: string | undefined;
        try {
          gotCode = JSON.parse(got.text)?.issue?.[0]?.details?.coding?.[0]?.code;
        } catch {
          gotCode = undefined;
        }
        if (got.status !== status || (code && gotCode !== code)) {
          wrong.push(`${row.what} × ${actor}: want ${status}${code ? ' ' + code : ''}, got ${got.status}${gotCode ? ' ' + gotCode : ''} ${got.status >= 400 ? got.text.slice(0, 160) : ''}`);
        }
      }
    }
    assert.deepEqual(wrong, [], `${wrong.length} cells differ:\n${wrong.join('\n')}`);
  });

  it('grants break-the-glass on the FHIR API only with a stated reason, and flags the read for review', async () => {
    // A clinician of a new institution: by now D's system has submitted an encounter of 张三 (the create row).
    const f = await p.addInstitution();
    const res = await call(adminToken, { method: 'POST', url: '/admin/tokens', body: { role: 'clinician', institution: f.id, user: 'dr-f-btg' } });
    const t = JSON.parse(res.text).access_token as string;
    assert.equal((await call(t, { url: `/fhir/Observation/gc-${tag}` })).status, 403, 'no relationship without the glass');
    const noReason = await call(t, { url: `/fhir/Observation/gc-${tag}` }, {}, { 'x-purpose-of-use': 'ETREAT' });
    assert.equal(noReason.status, 403);
    assert.equal(JSON.parse(noReason.text).issue[0].details.coding[0].code, 'reason-required');
    const ok = await call(t, { url: `/fhir/Observation/gc-${tag}` }, {}, headersOf('clinician D (break-the-glass)'));
    assert.equal(ok.status, 200, ok.text);
    const trail = await call(tokens.get('auditor')!, { url: `/fhir/AuditEvent?agent=dr-f-btg&patient=Patient/${r.person}&_count=100` });
    const events = (JSON.parse(trail.text).entry ?? []).map((e: { resource: { meta?: { security?: Array<{ code: string }> }; entity?: Array<{ detail?: Array<{ valueString?: string }> }> } }) => e.resource);
    const flagged = events.filter((e: { meta?: { security?: Array<{ code: string }> } }) => e.meta?.security?.some((x) => x.code === 'BTG'));
    assert.ok(flagged.length >= 1, 'the break-the-glass read is on the review list');
    assert.ok(JSON.stringify(flagged).includes('急诊昏迷，需要既往史'), 'with its reason');
    const bad = await call(t, { url: `/fhir/Observation/gc-${tag}` }, {}, { 'x-purpose-of-use': 'ETREAT; DROP' });
    assert.equal(bad.status, 400);
  });

  it('never answers a 5xx to any actor for any cell', async () => {
    for (const row of rows()) {
      for (const actor of ACTORS) {
        const vars = { ka: r.keys.a, person: r.person, aid: r.a.id, ...(await row.ask.setup?.()) };
        const got = await call(tokens.get(actor)!, row.ask, vars, headersOf(actor));
        assert.ok(got.status < 500, `${row.what} × ${actor}: ${got.status} ${got.text.slice(0, 200)}`);
      }
    }
  });
});
