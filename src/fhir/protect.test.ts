import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isCiphertext } from '../crypto/index.ts';
import { normalizeIdentifierValue, normalizePhoneValue, protectForStore } from './protect.ts';
import { harness, type Harness } from './test-helpers.ts';

const RID_SYS = 'urn:oid:2.16.156.10011.1.1';
const RID = '33052319800101001X';
const PASSPORT = 'E12345678';
const CARD = '3305230000012345';
const PHONE = '13905721234';
const KIN_PHONE = '13600001111';
const MRN = 'MRN-77';

function person(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    identifier: [
      { system: 'urn:hospital:a:mrn', value: MRN },
      { system: RID_SYS, value: RID },
      { system: 'urn:passport:CAN', value: PASSPORT, type: { coding: [{ code: 'PPN' }] } },
      { system: 'urn:healthbrain:ehc', value: CARD },
    ],
    name: [{ text: '钱七' }],
    telecom: [{ system: 'phone', value: PHONE, use: 'mobile' }, { system: 'email', value: 'qian@example.cn' }],
    contact: [{ name: { text: '钱八' }, telecom: [{ system: 'phone', value: KIN_PHONE }] }],
    ...extra,
  };
}

const CLEAR = [RID, PASSPORT, CARD, PHONE, KIN_PHONE];

describe('protected identifiers in the FHIR store (SM4 content, HMAC-SM3 blind indexes)', () => {
  let h: Harness;
  let id: string;
  before(async () => {
    h = await harness();
    const r = await h.call('POST', 'Patient', { body: person() });
    assert.equal(r.status, 201, JSON.stringify(r.resource));
    id = r.resource.id;
    await h.call('PUT', `Patient/${id}`, { body: { ...person({ gender: 'female' }), id } });
  });
  after(() => h.close());

  /** Every stored row of the Patient (current and history, every column) as text. */
  async function dump(): Promise<string> {
    const cur = await h.db.query<{ t: string }>(`SELECT t::text AS t FROM fhir_resource t WHERE id = $1`, [id]);
    const hist = await h.db.query<{ t: string }>(`SELECT t::text AS t FROM fhir_resource_history t WHERE id = $1`, [id]);
    assert.equal(cur.rows.length, 1);
    assert.equal(hist.rows.length, 2);
    return [...cur.rows, ...hist.rows].map((r) => r.t).join('\n');
  }

  it('keeps resident ID, passport, health card and phones (the contact’s too) out of content, history and search columns', async () => {
    const text = await dump();
    for (const v of CLEAR) assert.ok(!text.includes(v), `${v} stored in clear`);
    assert.ok(text.includes(MRN), 'an MRN names the institution’s record, not the person: stays searchable in clear');
    assert.ok(text.includes('qian@example.cn'), 'email is not a protected value');
    const { rows } = await h.db.query<{ content: any; identifiers: string[]; tokens: string[] }>('SELECT content, identifiers, tokens FROM fhir_resource WHERE id = $1', [id]);
    assert.ok(rows[0].content.identifier.slice(1).every((i: { value: string }) => isCiphertext(i.value)));
    assert.ok(rows[0].identifiers.includes(`${RID_SYS}|${h.db.crypto.blindIndex('fhir-identifier', RID)}`));
    assert.ok(rows[0].tokens.some((t) => t.startsWith('phone=phone|bi:')));
  });

  it('reads, vreads and lists history with the values in clear', async () => {
    const read = await h.call('GET', `Patient/${id}`);
    assert.deepEqual(read.resource.identifier.map((i: { value: string }) => i.value), [MRN, RID, PASSPORT, CARD]);
    assert.equal(read.resource.contact[0].telecom[0].value, KIN_PHONE);
    assert.equal((await h.call('GET', `Patient/${id}/_history/1`)).resource.telecom[0].value, PHONE);
    const hist = await h.call('GET', `Patient/${id}/_history`);
    assert.deepEqual(hist.resource.entry.map((e: any) => e.resource.identifier[1].value), [RID, RID]);
  });

  it('finds the Patient by identifier with or without system, by telecom and by phone, normalised as on write', async () => {
    const ids = async (query: string) => (await h.call('GET', 'Patient', { query })).resource.entry.map((e: any) => e.resource.id);
    assert.deepEqual(await ids(`identifier=${RID_SYS}|${RID}`), [id]);
    assert.deepEqual(await ids(`identifier=${RID.toLowerCase()}`), [id], 'x and X are one check character');
    assert.deepEqual(await ids(`identifier=${'３３０５２３'}${RID.slice(6)}`), [id], 'full-width digits');
    assert.deepEqual(await ids(`identifier=${PASSPORT.toLowerCase()}`), [id]);
    assert.deepEqual(await ids(`identifier=urn:healthbrain:ehc|${CARD}`), [id]);
    assert.deepEqual(await ids(`identifier=${MRN}`), [id]);
    assert.deepEqual(await ids(`identifier=${RID_SYS}|`), [id], 'system-only search still matches');
    assert.deepEqual(await ids(`phone=139-0572-1234`), [id]);
    assert.deepEqual(await ids(`telecom=%2B86${PHONE}`), [id]);
    assert.deepEqual(await ids(`telecom=phone|${PHONE}`), [id]);
    assert.deepEqual(await ids(`phone=13905721235`), []);
    assert.deepEqual(await ids(`identifier:not=${RID}&_id=${id}`), []);
  });

  it('matches conditional writes by a protected identifier: a transaction Bundle upserts the same Patient', async () => {
    const put = (gender: string) => ({
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ resource: { ...person(), gender }, request: { method: 'PUT', url: `Patient?identifier=${RID_SYS}|${RID}` } }],
    });
    const a = await h.call('POST', '', { body: put('male') });
    assert.equal(a.status, 200, JSON.stringify(a.resource));
    assert.equal(a.resource.entry[0].response.location.split('/')[1], id);
    const c = await h.call('POST', 'Patient', { body: person(), headers: { 'if-none-exist': `identifier=${RID}` } });
    assert.equal(c.status, 200);
    assert.equal(c.resource.id, id);
    assert.equal(c.resource.identifier[1].value, RID);
  });

  it('returns included Patients decrypted (_include) and deletes keep the history encrypted', async () => {
    const obs = await h.call('POST', 'Observation', {
      body: { resourceType: 'Observation', status: 'final', code: { text: 'BP' }, subject: { reference: `Patient/${id}` } },
    });
    assert.equal(obs.status, 201);
    const s = await h.call('GET', 'Observation', { query: `_id=${obs.resource.id}&_include=Observation:subject` });
    const inc = s.resource.entry.find((e: any) => e.search.mode === 'include');
    assert.equal(inc.resource.telecom[0].value, PHONE);
    const other = await h.call('POST', 'Patient', { body: person({ identifier: [{ system: RID_SYS, value: '330523199001011234' }] }) });
    assert.ok((await h.call('DELETE', `Patient/${other.resource.id}`)).status < 300);
    const { rows } = await h.db.query<{ t: string }>('SELECT t::text AS t FROM fhir_resource_history t WHERE id = $1', [other.resource.id]);
    assert.equal(rows.length, 2);
    for (const r of rows) assert.ok(!r.t.includes('330523199001011234') && !r.t.includes(PHONE));
  });

  it('still reads and finds a Patient stored in clear before encryption', async () => {
    await h.db.query(
      `INSERT INTO fhir_resource (patient_key, resource_type, id, version_id, last_updated, content, identifiers)
       VALUES ('legacy-1', 'Patient', 'legacy-1', 1, now(), $1::jsonb, $2::text[])`,
      [JSON.stringify({ resourceType: 'Patient', id: 'legacy-1', identifier: [{ system: RID_SYS, value: '330523197001010018' }] }), [`${RID_SYS}|330523197001010018`, '330523197001010018']],
    );
    assert.equal((await h.call('GET', 'Patient/legacy-1')).resource.identifier[0].value, '330523197001010018');
    const s = await h.call('GET', 'Patient', { query: 'identifier=330523197001010018' });
    assert.deepEqual(s.resource.entry.map((e: any) => e.resource.id), ['legacy-1']);
  });
});

describe('protectForStore', () => {
  it('returns a resource with nothing protected as it is (no copy), and never changes its input', async () => {
    const { FieldCrypto, generateKeyRing } = await import('../crypto/index.ts');
    const crypto = new FieldCrypto(generateKeyRing());
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 3, system: 'http://unitsofmeasure.org', code: 'kg' } } as const;
    const same = protectForStore(crypto, obs as never);
    assert.equal(same.content, obs);
    assert.equal(same.searchable, obs);
    const p = person() as never;
    const before = JSON.stringify(p);
    const out = protectForStore(crypto, p);
    assert.equal(JSON.stringify(p), before);
    assert.ok(!JSON.stringify(out.content).includes(RID) && !JSON.stringify(out.searchable).includes(RID));
  });

  it('normalises identifiers and phones the same way on write and on search', () => {
    assert.equal(normalizeIdentifierValue(' 330523 19800101001x '), '33052319800101001X');
    assert.equal(normalizeIdentifierValue('３３０５２３'), '330523');
    assert.equal(normalizePhoneValue('+86 139-0572-1234'), '13905721234');
    assert.equal(normalizePhoneValue('(0572) 5123456'), '05725123456');
  });
});
