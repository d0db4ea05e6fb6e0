import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import iconv from 'iconv-lite';
import { openTestPlatform, type TestPlatform } from './testing.ts';

const hl7 = (id: string, app = 'LIS', fac = 'TOWN-1') =>
  `MSH|^~\\&|${app}|${fac}|HB|REGION|20240301||ORU^R01^ORU_R01|${id}|P|2.5.1\rPID|1||M1^^^${fac}^MR||王^小明\rOBR|1||L1|GLU\rOBX|1|NM|GLU^葡萄糖^L||5.6|mmol/L`;

describe(`ingestion HTTP routes on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let inst: Awaited<ReturnType<TestPlatform['addInstitution']>>;
  let admin: string;
  const post = (url: string, token: string, type: string, payload: string | Buffer) =>
    p.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, 'content-type': type }, payload });
  const feeds = async () => (await p.app.inject({ method: 'GET', url: '/admin/feeds', headers: { authorization: `Bearer ${admin}` } })).json();

  before(async () => {
    p = await openTestPlatform();
    inst = await p.addInstitution('乡镇卫生院一');
    admin = await p.adminToken();
  });
  after(() => p.close());

  it('acknowledges each HL7 message of an HTTP body with AA after landing, and a re-post as a duplicate', async () => {
    const body = iconv.encode([hl7('H-1'), hl7('H-2')].join('\n'), 'gbk');
    const res = await post('/ingest/hl7', inst.token, 'x-application/hl7-v2+er7', body);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-hl7-ack-codes'], 'AA,AA');
    const acks = res.body.split('\r').filter((s) => s.startsWith('MSA'));
    assert.deepEqual(acks, ['MSA|AA|H-1|OK', 'MSA|AA|H-2|OK']);
    const again = await post('/ingest/hl7', inst.token, 'x-application/hl7-v2+er7', body);
    assert.equal(again.headers['x-hl7-ack-codes'], 'AA,AA');
    const [f] = (await feeds()).filter((r: { institution_id: string }) => r.institution_id === inst.id);
    assert.deepEqual([f.received, f.duplicates], [4, 2]);
  });

  it('refuses data without an institution token (401) and from a person token (403)', async () => {
    const anon = await p.app.inject({ method: 'POST', url: '/ingest/hl7', headers: { 'content-type': 'x-application/hl7-v2+er7' }, payload: hl7('N-1') });
    assert.equal(anon.statusCode, 401);
    assert.equal((await post('/ingest/hl7', admin, 'x-application/hl7-v2+er7', hl7('N-2'))).statusCode, 403);
  });

  it('takes a streamed core-table CSV upload and reports the rows; a CSV missing columns is a 400 naming them', async () => {
    const csv = '患者编号,姓名,机构代码,记录编号,更新时间\nM1,甲,T1,1,20240101\nM2,乙,T1,2,20240102\n';
    const ok = await post('/ingest/csv?table=patient', inst.token, 'text/csv', csv);
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual([ok.json().received, ok.json().landed, ok.json().dateFormats.updated_at], [2, 2, 'yyyyMMdd']);
    const bad = await post('/ingest/csv?file=patient-x.csv', inst.token, 'text/csv', '姓名\n甲\n');
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().issue[0].details.text, /机构代码 \(org_code\).*记录编号 \(record_id\)/);
  });

  it('registers an HL7 sender, lists quarantined units by reason, and reprocess requeues them', async () => {
    const auth = { authorization: `Bearer ${admin}` };
    const reg = await p.app.inject({ method: 'POST', url: '/admin/hl7-senders', headers: auth, payload: { institution: inst.code, msh3: 'LIS', msh4: 'TOWN-1' } });
    assert.equal(reg.statusCode, 201);
    const list = await p.app.inject({ method: 'GET', url: '/admin/hl7-senders', headers: auth });
    // The listing says how each sender must connect over MLLP (issue 10); the secret itself is never listed.
    assert.deepEqual(list.json(), [{ institution_id: inst.id, msh3: 'LIS', msh4: 'TOWN-1', addresses: [], has_secret: false, cert_fingerprint: null }]);
    // A CSV row with a field missing is quarantined as it lands (no standardizer involved), listed by its reason.
    const csv = '机构代码,记录编号,患者编号,姓名,更新时间\nT1,9,M9\n';
    assert.equal((await post('/ingest/csv?table=patient', inst.token, 'text/csv', csv)).json().quarantined, 1);
    const q = (await p.app.inject({ method: 'GET', url: `/admin/quarantine?institution=${inst.code}&reason=csv-field-count`, headers: auth })).json();
    assert.deepEqual(q.summary, [{ institution_id: inst.id, reason: 'csv-field-count', units: 1 }]);
    assert.match(q.units[0].reasons[0].detail, /3 fields, the header has 5/);
    const re = await p.app.inject({ method: 'POST', url: '/admin/reprocess', headers: auth, payload: { institution: inst.code, reason: 'csv-field-count' } });
    assert.deepEqual(re.json(), { requeued: 1 });
  });

  it('lands an institution-posted transaction Bundle verbatim before the FHIR layer, and answers a re-post without processing it again', async () => {
    const bundle = JSON.stringify({
      resourceType: 'Bundle', type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:7f1e9c2a-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', identifier: [{ system: 'urn:his:mrn', value: 'Z6' }], name: [{ text: '赵六' }] }, request: { method: 'POST', url: 'Patient' } }],
    }, null, 1);
    const first = await post('/fhir', inst.token, 'application/fhir+json', bundle);
    const second = await post('/fhir/', inst.token, 'application/fhir+json', bundle);
    assert.equal(second.statusCode, 200);
    assert.equal(second.json().type, 'transaction-response');
    const { rows } = await p.deps.db.query<{ content: Uint8Array; status: string }>(
      `SELECT content, status FROM landed_unit WHERE institution_id = $1 AND channel = 'fhir'`, [inst.id],
    );
    assert.equal(rows.length, 1);
    // Sealed at rest (issue 10): the original bytes are what unsealing gives back.
    assert.equal(p.deps.db.crypto.unseal(rows[0].content).toString(), bundle, 'the original bytes, whitespace and all');
    assert.equal(rows[0].status, first.statusCode < 400 ? 'standardized' : 'quarantined');
    // 4 HL7 messages (2 duplicates), 3 CSV rows, 2 Bundles (1 duplicate); once the worker is idle the counts reconcile.
    let f = (await feeds()).find((r: { institution_id: string }) => r.institution_id === inst.id);
    for (let i = 0; i < 600 && f.received !== f.standardized + f.quarantined + f.duplicates; i++) {
      await new Promise((r) => setTimeout(r, 100));
      f = (await feeds()).find((r: { institution_id: string }) => r.institution_id === inst.id);
    }
    assert.deepEqual([f.received, f.duplicates], [9, 3]);
    const daily = await p.app.inject({ method: 'GET', url: `/admin/feeds/daily?institution=${inst.code}`, headers: { authorization: `Bearer ${admin}` } });
    const days = daily.json() as Array<{ received: number; standardized: number; quarantined: number; duplicates: number; pending: number }>;
    assert.equal(days.reduce((s, d) => s + d.received, 0), 9);
    for (const d of days) assert.equal(d.received, d.standardized + d.quarantined + d.duplicates + d.pending);
    assert.equal(f.received, f.standardized + f.quarantined + f.duplicates);
    assert.equal(f.pending, 0);
    assert.deepEqual(Object.keys(f).sort(), ['duplicates', 'institution_id', 'institution_name', 'last_received_at', 'pending', 'quarantined', 'received', 'standardized']);
  });
});
