import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle, Identifier, Parameters, Patient } from '@medplum/fhirtypes';
import type { InjectOptions } from 'fastify';
import { openTestPlatform, type TestPlatform } from '../api/testing.ts';
import { HEALTH_CARD_SYSTEM, PERSON_ID_SYSTEM, RESIDENT_ID_SYSTEM } from './features.ts';
import { matchIncoming } from './match-incoming.ts';
import { getPerson } from './registry.ts';
import { patientInput } from './testing.ts';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const RID = '330523196501010019'; // valid GB 11643 check character: the golden record keeps only valid IDs
const PHONE = '13911112222';
const ACCESS_OUTCOME = 'https://healthbrain.cn/fhir/CodeSystem/access-outcome';

const ids = (p: Parameters, name: string) =>
  (p.parameter ?? []).filter((x) => x.name === name).map((x) => (x.valueIdentifier ? `${x.valueIdentifier.system}|${x.valueIdentifier.value}` : x.valueReference!.reference!));
const idents = (p: Patient) => (p.identifier ?? []).map((i: Identifier) => `${i.system}|${i.value}`);

describe(`identity operations behind the access rules, audited (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let p: TestPlatform;
  let h: { id: string; clientId: string; token: string };
  let c: { id: string; clientId: string; token: string };
  let personId: string;
  let healthCard: string;
  let other: string;
  const keys: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  const inject = (o: InjectOptions) => p.app.inject(o);
  const pix = (t: string, query: string) => inject({ method: 'GET', url: `/fhir/Patient/$ihe-pix?${query}`, headers: bearer(t) });
  const match = (t: string, patient: Patient) =>
    inject({ method: 'POST', url: '/fhir/Patient/$match', headers: { ...bearer(t), 'content-type': 'application/fhir+json' }, payload: { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: patient }] } });
  const probe = () => patientInput({ name: '刘德明', rid: RID, birthDate: '1965-01-01', gender: 'male' }).patient;
  /** The AuditEvents of one agent, oldest first, as the auditor finds them through the FHIR API. */
  const auditsOf = async (agent: string): Promise<AuditEvent[]> => {
    const res = await inject({ method: 'GET', url: `/fhir/AuditEvent?agent=${encodeURIComponent(agent)}&_count=500&_sort=date`, headers: bearer(tokens.auditor) });
    assert.equal(res.statusCode, 200, res.body);
    return ((res.json() as Bundle<AuditEvent>).entry ?? []).map((e) => e.resource!);
  };
  /** The agent's AuditEvents written while `fn` ran (several share one instant: compare them as a set). */
  const newAudits = async (agent: string, fn: () => Promise<void>): Promise<AuditEvent[]> => {
    const known = new Set((await auditsOf(agent)).map((e) => e.id));
    await fn();
    return (await auditsOf(agent)).filter((e) => !known.has(e.id));
  };
  const sorted = <T>(rows: T[]) => rows.map((r) => JSON.stringify(r)).sort();
  const queryOf = (e: AuditEvent) => e.entity?.find((x) => x.role?.code === '24')?.description ?? '';
  const patientsOf = (e: AuditEvent) => (e.entity ?? []).filter((x) => x.role?.code === '1').map((x) => x.what!.reference!);

  before(async () => {
    p = await openTestPlatform();
    h = await p.addInstitution('安吉县人民医院');
    c = await p.addInstitution('递铺街道社区卫生服务中心');
    const db = p.deps.db;
    const base = { name: '刘德明', rid: RID, birthDate: '1965-01-01', gender: 'male' as const, phone: PHONE, village: '330523101001' };
    const a = await matchIncoming(db, patientInput({ ...base, mrn: 'H-1' }, h.id, 'pk-h-1'));
    const b = await matchIncoming(db, patientInput({ ...base, mrn: 'C-1', name: '劉德明' }, c.id, 'pk-c-1'));
    assert.equal(a.personId, b.personId);
    [personId, keys.h, keys.c] = [a.personId, a.patientKey, b.patientKey];
    healthCard = (await getPerson(db, personId))!.healthCard;
    // Same name and birth date, no ID, another phone and village: a grey-zone record for the review queue.
    other = (await matchIncoming(db, patientInput({ name: '刘德明', birthDate: '1965-01-01', gender: 'male', mrn: 'X-1', village: '330523101009' }, 'HOSP-X', 'pk-x-1'))).personId;
    const admin = await p.adminToken();
    tokens.admin = admin;
    for (const [role, institution, user] of [
      ['operator', undefined, 'op-1'], ['clinician', h.id, 'dr-h'], ['resident', undefined, personId], ['manager', undefined, 'mgr-1'],
      ['researcher', undefined, 'res-1'], ['auditor', undefined, 'aud-1'],
    ] as const) {
      const res = await inject({ method: 'POST', url: '/admin/tokens', headers: bearer(admin), payload: { role, institution, user } });
      assert.equal(res.statusCode, 200, res.body);
      tokens[role] = res.json().access_token;
    }
  });
  after(() => p.close());

  it('refuses $ihe-pix and $match to clinicians, residents, managers and researchers with 403 role-not-permitted, disclosing nothing, and audits each refusal', async () => {
    for (const [role, agent] of [['clinician', 'dr-h'], ['resident', personId], ['manager', 'mgr-1'], ['researcher', 'res-1']]) {
      const events = await newAudits(agent, async () => {
        for (const res of [await pix(tokens[role], `sourceIdentifier=${encodeURIComponent(`${RESIDENT_ID_SYSTEM}|${RID}`)}`), await match(tokens[role], probe())]) {
          assert.equal(res.statusCode, 403, `${role}: ${res.body}`);
          const issue = res.json().issue[0];
          assert.equal(issue.code, 'forbidden');
          assert.deepEqual(issue.details.coding[0], { system: ACCESS_OUTCOME, code: 'role-not-permitted' });
          assert.doesNotMatch(res.body, new RegExp(`${PHONE}|H-1|C-1|${healthCard}`), role);
        }
      });
      assert.deepEqual(sorted(events.map((e) => [queryOf(e).split('?')[0], e.outcome, e.action])), sorted([['Patient/$ihe-pix', '4', 'E'], ['Patient/$match', '4', 'E']]), role);
      assert.doesNotMatch(JSON.stringify(events), new RegExp(RID), 'the audit trail keeps the asked resident ID masked');
    }
    // The auditor's token has no scope for operations at all: refused before any EMPI code runs.
    assert.equal((await pix(tokens.auditor, `sourceIdentifier=${encodeURIComponent(`${RESIDENT_ID_SYSTEM}|${RID}`)}`)).statusCode, 403);
    assert.equal((await match(tokens.auditor, probe())).statusCode, 403);
  });

  it('answers an institution system’s $ihe-pix with the golden person id and its own record number and Patient only, audited for that person', async () => {
    const res = await pix(h.token, `sourceIdentifier=${encodeURIComponent(`${RESIDENT_ID_SYSTEM}|${RID}`)}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(ids(res.json(), 'targetIdentifier').sort(), [`${PERSON_ID_SYSTEM}|${personId}`, `urn:${h.id}:mrn|H-1`].sort());
    assert.deepEqual(ids(res.json(), 'targetId'), [`Patient/${keys.h}`]);
    assert.doesNotMatch(res.body, new RegExp(`C-1|${keys.c}|${healthCard}|${RESIDENT_ID_SYSTEM}`));
    const byOwnMrn = await pix(c.token, `sourceIdentifier=${encodeURIComponent(`urn:${c.id}:mrn|C-1`)}`);
    assert.deepEqual(ids(byOwnMrn.json(), 'targetIdentifier'), [`${PERSON_ID_SYSTEM}|${personId}`], 'the source is not echoed; the hospital’s number is not the clinic’s to see');
    assert.deepEqual(ids(byOwnMrn.json(), 'targetId'), [`Patient/${keys.c}`]);
    const [event] = (await auditsOf(h.clientId)).filter((e) => queryOf(e).startsWith('Patient/$ihe-pix'));
    assert.equal(event.outcome, '0');
    assert.equal(event.agent![0].location?.display, '安吉县人民医院');
    assert.deepEqual(patientsOf(event), [`Patient/${personId}`, `Patient/${keys.h}`], 'the person and the Patient the answer named');
    assert.match(decodeURIComponent(queryOf(event)), /sourceIdentifier=urn:oid:2\.16\.156\.10011\.1\.3\|330523\*+0019/, 'the asked resident ID is masked in the trail');
    // The resident sees the lookup in "who viewed me".
    const mine = await inject({ method: 'GET', url: `/fhir/AuditEvent?patient=Patient/${personId}&_count=500`, headers: bearer(tokens.resident) });
    assert.equal(mine.statusCode, 200, mine.body);
    assert.ok((mine.json() as Bundle<AuditEvent>).entry?.some((e) => e.resource!.id === event.id), mine.body);
  });

  it('refuses an institution system a PIXm targetSystem that is another institution’s or a person-level domain (403 target-domain-not-permitted), audited', async () => {
    const events = await newAudits(c.clientId, async () => {
      for (const target of [`urn:${h.id}:mrn`, RESIDENT_ID_SYSTEM, HEALTH_CARD_SYSTEM]) {
        const res = await pix(c.token, `sourceIdentifier=${encodeURIComponent(`urn:${c.id}:mrn|C-1`)}&targetSystem=${encodeURIComponent(target)}`);
        assert.equal(res.statusCode, 403, res.body);
        assert.equal(res.json().issue[0].details.coding[0].code, 'target-domain-not-permitted');
        assert.doesNotMatch(res.body, /H-1|330523196501010019/);
      }
      const own = await pix(c.token, `sourceIdentifier=${encodeURIComponent(`${RESIDENT_ID_SYSTEM}|${RID}`)}&targetSystem=${encodeURIComponent(`urn:${c.id}:mrn`)}`);
      assert.deepEqual(ids(own.json(), 'targetIdentifier'), [`urn:${c.id}:mrn|C-1`]);
    });
    assert.deepEqual(events.map((e) => e.outcome).sort(), ['0', '4', '4', '4']);
  });

  it('answers an institution system’s $match with its own number and Patient, the resident ID, health card and phone masked, each candidate audited', async () => {
    const res = await match(h.token, probe());
    assert.equal(res.statusCode, 200, res.body);
    const b = res.json() as Bundle<Patient>;
    const top = b.entry![0].resource!;
    assert.equal(top.id, personId);
    assert.equal(b.entry![0].search!.extension![0].valueCode, 'certain');
    assert.deepEqual(idents(top), [`${PERSON_ID_SYSTEM}|${personId}`, `urn:${h.id}:mrn|H-1`, `${RESIDENT_ID_SYSTEM}|330523********0019`, `${HEALTH_CARD_SYSTEM}|${healthCard.slice(0, 8)}${'*'.repeat(healthCard.length - 12)}${healthCard.slice(-4)}`]);
    assert.deepEqual(top.telecom, [{ system: 'phone', value: '139****2222' }]);
    assert.deepEqual(top.link?.map((l) => l.other.reference), [`Patient/${keys.h}`]);
    assert.equal(top.meta?.security?.[0].code, 'REDACTED');
    assert.doesNotMatch(res.body, new RegExp(`${PHONE}|${RID}|${healthCard}|C-1|${keys.c}`));
    const events = (await auditsOf(h.clientId)).filter((e) => queryOf(e).startsWith('Patient/$match'));
    assert.deepEqual(events.map((e) => patientsOf(e)[0]).sort(), b.entry!.map((e) => `Patient/${e.resource!.id}`).sort(), 'one AuditEvent per person returned');
    assert.ok(events.every((e) => e.outcome === '0' && e.action === 'E'));
  });

  it('gives the EMPI operator and the platform admin the whole cross-reference and golden record, audited as operations', async () => {
    for (const [t, agent] of [[tokens.operator, 'op-1'], [tokens.admin, undefined]] as const) {
      const res = await pix(t, `sourceIdentifier=${encodeURIComponent(`urn:${h.id}:mrn|H-1`)}`);
      assert.equal(res.statusCode, 200, res.body);
      const found = ids(res.json(), 'targetIdentifier');
      for (const x of [`urn:${c.id}:mrn|C-1`, `${RESIDENT_ID_SYSTEM}|${RID}`, `${HEALTH_CARD_SYSTEM}|${healthCard}`, `${PERSON_ID_SYSTEM}|${personId}`]) assert.ok(found.includes(x), `${x} in ${found}`);
      assert.deepEqual(ids(res.json(), 'targetId').sort(), [`Patient/${keys.c}`, `Patient/${keys.h}`].sort());
      const m = (await match(t, probe())).json() as Bundle<Patient>;
      const top = m.entry![0].resource!;
      assert.deepEqual(top.telecom, [{ system: 'phone', value: PHONE }]);
      assert.ok(idents(top).includes(`${RESIDENT_ID_SYSTEM}|${RID}`));
      assert.equal(top.link?.length, 2);
      assert.equal(top.meta, undefined);
      if (agent) {
        const events = (await auditsOf(agent)).filter((e) => e.subtype?.[0].code === 'operation');
        assert.deepEqual(sorted(events.map((e) => [queryOf(e).split('?')[0], e.outcome, e.purposeOfEvent?.[0].coding?.[0].code])), sorted([['Patient/$ihe-pix', '0', 'HOPERAT'], ...m.entry!.map(() => ['Patient/$match', '0', 'HOPERAT'])]));
      }
    }
  });

  it('keeps the EMPI review queue, persons, merge and unmerge to operators: others get 403 role-not-permitted, every call audited with the persons it showed or changed', async () => {
    const list = await inject({ method: 'GET', url: '/admin/empi/reviews', headers: bearer(tokens.operator) });
    assert.equal(list.statusCode, 200, list.body);
    const item = list.json().items.find((i: { patientKeyA: string; patientKeyB: string }) => [i.patientKeyA, i.patientKeyB].includes('pk-x-1'));
    assert.ok(item, list.body);
    const calls: InjectOptions[] = [
      { method: 'GET', url: '/admin/empi/reviews' },
      { method: 'GET', url: `/admin/empi/reviews/${item.reviewId}` },
      { method: 'GET', url: `/admin/empi/persons/${personId}` },
      { method: 'POST', url: `/admin/empi/persons/${personId}/merge`, payload: { from: other } },
      { method: 'POST', url: '/admin/empi/merges/1/undo' },
    ];
    for (const [t, agent] of [[h.token, h.clientId], [tokens.clinician, 'dr-h'], [tokens.resident, personId], [tokens.manager, 'mgr-1'], [tokens.researcher, 'res-1'], [tokens.auditor, 'aud-1']]) {
      const events = await newAudits(agent, async () => {
        for (const call of calls) {
          const res = await inject({ ...call, headers: bearer(t) });
          assert.equal(res.statusCode, 403, `${agent} ${call.url}: ${res.body}`);
          assert.equal(res.json().issue[0].details.coding[0].code, 'role-not-permitted');
          assert.doesNotMatch(res.body, new RegExp(`${PHONE}|${RID}|${healthCard}`));
        }
      });
      assert.deepEqual(sorted(events.map((e) => [e.subtype?.[0].code, e.outcome])), sorted([['empi-review', '4'], ['empi-review', '4'], ['empi-review', '4'], ['empi-merge', '4'], ['empi-unmerge', '4']]), agent);
    }
    const one = await inject({ method: 'GET', url: `/admin/empi/reviews/${item.reviewId}`, headers: bearer(tokens.operator) });
    assert.equal(one.statusCode, 200, one.body);
    const person = await inject({ method: 'GET', url: `/admin/empi/persons/${personId}`, headers: bearer(tokens.operator) });
    assert.equal(person.json().residentId, RID, 'the operator investigating sees the identifiers whole');
    assert.equal(person.json().healthCard, healthCard);
    assert.equal(person.json().golden.phone.value, PHONE);
    const merged = await inject({ method: 'POST', url: `/admin/empi/persons/${personId}/merge`, headers: bearer(tokens.operator), payload: { from: other } });
    assert.equal(merged.statusCode, 200, merged.body);
    const undone = await inject({ method: 'POST', url: `/admin/empi/merges/${merged.json().mergeEventId}/undo`, headers: bearer(tokens.operator) });
    assert.equal(undone.statusCode, 200, undone.body);
    const missing = await inject({ method: 'GET', url: '/admin/empi/persons/P9999999999', headers: bearer(tokens.operator) });
    assert.equal(missing.statusCode, 404);
    const events = (await auditsOf('op-1')).filter((e) => e.subtype?.[0].code?.startsWith('empi-'));
    const seen = events.map((e) => [e.subtype![0].code, e.action, e.outcome, patientsOf(e).filter((x) => /^Patient\/P\d{10}$/.test(x)).join(' ')]);
    assert.deepEqual(sorted(seen), sorted([
      ['empi-review', 'E', '0', ''], // the queue
      ['empi-review', 'R', '0', `Patient/${personId}`], // the item, side by side: one event per person
      ['empi-review', 'R', '0', `Patient/${other}`],
      ['empi-review', 'R', '0', `Patient/${personId}`], // the person
      ['empi-merge', 'U', '0', `Patient/${personId}`],
      ['empi-merge', 'U', '0', `Patient/${other}`],
      ['empi-unmerge', 'U', '0', `Patient/${personId}`],
      ['empi-unmerge', 'U', '0', `Patient/${other}`],
      ['empi-review', 'R', '8', ''], // the unknown person: a failure, audited
    ]));
  });
});
