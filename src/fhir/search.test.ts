import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordBundle } from './search-fixtures.ts';
import { harness, patient, type Harness } from './test-helpers.ts';

describe('FHIR search', () => {
  let h: Harness;
  const id: Record<string, string> = {};
  before(async () => {
    h = await harness();
    const bundle = recordBundle() as { entry: Array<{ fullUrl: string }> };
    const r = await h.call('POST', '', { body: bundle });
    assert.equal(r.status, 200, JSON.stringify(r.resource));
    r.resource.entry.forEach((e: any, i: number) => (id[bundle.entry[i].fullUrl.slice(9)] = e.resource.id));
  });
  after(() => h.close());

  /** Ids of the matches (mapped back to fixture names) of a search. */
  async function find(type: string, query: string): Promise<string[]> {
    const r = await h.call('GET', type, { query });
    assert.equal(r.status, 200, `${type}?${query}: ${JSON.stringify(r.resource)}`);
    const names = Object.fromEntries(Object.entries(id).map(([k, v]) => [v, k]));
    return r.resource.entry.filter((e: any) => e.search.mode === 'match').map((e: any) => names[e.resource.id]).sort();
  }

  it('finds Patients by identifier with and without system', async () => {
    assert.deepEqual(await find('Patient', 'identifier=urn:oid:2.16.156.10011.1.1|330523198001010011'), ['p1']);
    assert.deepEqual(await find('Patient', 'identifier=330523199203040022'), ['p2']);
    assert.deepEqual(await find('Patient', 'identifier=other|330523199203040022'), []);
    assert.deepEqual(await find('Patient', 'identifier=330523198001010011,330523199203040022'), ['p1', 'p2']);
  });

  it('finds Patients by name prefix in Chinese and Latin, by family and by given', async () => {
    assert.deepEqual(await find('Patient', 'name=张'), ['p1']);
    assert.deepEqual(await find('Patient', 'name=张三'), ['p1']);
    assert.deepEqual(await find('Patient', 'name=王小'), ['p2']);
    assert.deepEqual(await find('Patient', 'name=zha'), ['p1']);
    assert.deepEqual(await find('Patient', 'name=Zhang San'), ['p1']);
    assert.deepEqual(await find('Patient', 'name=xiao'), ['p2']);
    assert.deepEqual(await find('Patient', 'family=王'), ['p2']);
    assert.deepEqual(await find('Patient', 'family=小'), []);
    assert.deepEqual(await find('Patient', 'given=小红'), ['p2']);
    assert.deepEqual(await find('Patient', 'name=li'), []);
  });

  it('finds Patients by address prefix, city and state', async () => {
    assert.deepEqual(await find('Patient', 'address=安吉'), ['p1']);
    assert.deepEqual(await find('Patient', 'address=递铺'), ['p1']);
    assert.deepEqual(await find('Patient', 'address-city=湖州'), ['p1']);
    assert.deepEqual(await find('Patient', 'address-state=浙江省'), ['p1']);
    assert.deepEqual(await find('Patient', 'address-state=江苏'), []);
  });

  it('finds Patients by birthdate with partial dates and prefixes, gender and telecom', async () => {
    assert.deepEqual(await find('Patient', 'birthdate=1980'), ['p1']);
    assert.deepEqual(await find('Patient', 'birthdate=1980-01'), ['p1']);
    assert.deepEqual(await find('Patient', 'birthdate=1980-01-01'), ['p1']);
    assert.deepEqual(await find('Patient', 'birthdate=ge1990'), ['p2']);
    assert.deepEqual(await find('Patient', 'birthdate=lt1990-01-01'), ['p1']);
    assert.deepEqual(await find('Patient', 'birthdate=le1980-01-01'), ['p1']);
    assert.deepEqual(await find('Patient', 'birthdate=gt1980-01-01'), ['p2']);
    assert.deepEqual(await find('Patient', 'birthdate=ne1980'), ['p2']);
    assert.deepEqual(await find('Patient', 'gender=female'), ['p2']);
    assert.deepEqual(await find('Patient', 'gender=http://hl7.org/fhir/administrative-gender|male'), ['p1']);
    assert.deepEqual(await find('Patient', 'phone=13800000001'), ['p1']);
    assert.deepEqual(await find('Patient', 'telecom=phone|13800000001'), ['p1']);
    assert.deepEqual(await find('Patient', 'email=w@example.cn'), ['p2']);
    assert.deepEqual(await find('Patient', 'organization=Organization/' + id.org), ['p1']);
  });

  it('finds Encounters by patient, subject, date, class and status', async () => {
    assert.deepEqual(await find('Encounter', `patient=${id.p1}`), ['e1']);
    assert.deepEqual(await find('Encounter', `patient=Patient/${id.p2}`), ['e2']);
    assert.deepEqual(await find('Encounter', `subject=Patient/${id.p1}`), ['e1']);
    assert.deepEqual(await find('Encounter', `subject:Patient=${id.p1}`), ['e1']);
    assert.deepEqual(await find('Encounter', 'date=2024-03'), ['e1']);
    assert.deepEqual(await find('Encounter', 'date=ge2024-01-01'), ['e1', 'e2']); // e2's period is still open
    assert.deepEqual(await find('Encounter', 'date=lt2024-01-01'), ['e2']);
    assert.deepEqual(await find('Encounter', 'class=IMP'), ['e2']);
    assert.deepEqual(await find('Encounter', 'status=finished'), ['e1']);
    assert.deepEqual(await find('Encounter', `practitioner=Practitioner/${id.dr}`), ['e1']);
  });

  it('finds Conditions by clinical-status, verification-status, code, category and onset-date', async () => {
    assert.deepEqual(await find('Condition', 'clinical-status=active'), ['c1']);
    assert.deepEqual(await find('Condition', 'clinical-status=resolved'), []);
    assert.deepEqual(await find('Condition', 'verification-status=confirmed'), ['c1']);
    assert.deepEqual(await find('Condition', 'code=http://hl7.org/fhir/sid/icd-10|I10'), ['c1']);
    assert.deepEqual(await find('Condition', 'category=problem-list-item'), ['c1']);
    assert.deepEqual(await find('Condition', 'onset-date=2019'), ['c1']);
    assert.deepEqual(await find('Condition', `patient=${id.p1}&encounter=Encounter/${id.e1}`), ['c1']);
  });

  it('finds Observations by code, category, status, date and patient, ANDing repeated params', async () => {
    assert.deepEqual(await find('Observation', 'code=http://loinc.org|2345-7'), ['o2', 'o3']);
    assert.deepEqual(await find('Observation', 'code=2345-7&patient=' + id.p1), ['o2']);
    assert.deepEqual(await find('Observation', 'category=vital-signs'), ['o1']);
    assert.deepEqual(await find('Observation', 'status=preliminary'), ['o3']);
    assert.deepEqual(await find('Observation', 'status:not=preliminary'), ['o1', 'o2']);
    assert.deepEqual(await find('Observation', 'date=2024'), ['o1', 'o2']);
    assert.deepEqual(await find('Observation', 'date=ge2024-01-01&date=lt2024-02-01'), ['o2']);
    assert.deepEqual(await find('Observation', 'date=2024-03-05T01:10:00Z'), ['o1']);
    assert.deepEqual(await find('Observation', 'date=2024-03-05T09:10'), ['o1'], 'a dateTime without zone is China Standard Time');
    assert.deepEqual(await find('Observation', 'date=2023-12-31'), ['o3'], '12:00Z is 20:00 on the 31st in China');
    assert.deepEqual(await find('Observation', 'date=sa2024-01-15'), ['o1']);
    assert.deepEqual(await find('Observation', 'date=eb2024-01-01'), ['o3']);
    assert.deepEqual(await find('Observation', 'category:missing=true'), ['o3']);
    assert.deepEqual(await find('Observation', 'encounter:missing=false'), ['o1']);
    assert.deepEqual(await find('Observation', `performer=Practitioner/${id.dr}`), ['o1']);
  });

  it('finds DiagnosticReports, MedicationRequests, Procedures and Immunizations by their parameters', async () => {
    assert.deepEqual(await find('DiagnosticReport', `result=Observation/${id.o2}`), ['dr1']);
    assert.deepEqual(await find('DiagnosticReport', 'code=24323-8&category=LAB&status=final&date=2024-01-15'), ['dr1']);
    assert.deepEqual(await find('MedicationRequest', `medication=Medication/${id.med}&intent=order&status=active`), ['mr1']);
    assert.deepEqual(await find('MedicationRequest', `authoredon=2024-03&patient=${id.p1}`), ['mr1']);
    assert.deepEqual(await find('Procedure', 'code=88.72&date=2023-11&status=completed'), ['pr1']);
    assert.deepEqual(await find('Procedure', `performer=Practitioner/${id.dr}&patient=${id.p2}`), ['pr1']);
    assert.deepEqual(await find('Immunization', `vaccine-code=urn:cn-vaccine|0101&patient=${id.p2}&date=1992`), ['im1']);
    assert.deepEqual(await find('Immunization', 'status=completed&date=ge2000'), []);
  });

  it('finds Organizations and Practitioners by identifier and name', async () => {
    assert.deepEqual(await find('Organization', 'identifier=urn:uscc|12330523MB0000001'), ['org']);
    assert.deepEqual(await find('Organization', 'name=安吉'), ['org']);
    assert.deepEqual(await find('Practitioner', 'identifier=D001'), ['dr']);
    assert.deepEqual(await find('Practitioner', 'name=李'), ['dr']);
  });

  it('finds by _id and _lastUpdated', async () => {
    assert.deepEqual(await find('Patient', `_id=${id.p1}`), ['p1']);
    assert.deepEqual(await find('Patient', '_lastUpdated=gt2000-01-01'), ['p1', 'p2']);
    assert.deepEqual(await find('Patient', '_lastUpdated=lt2000-01-01'), []);
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(await find('Patient', `_lastUpdated=ge${today}&_id=${id.p2}`), ['p2']);
  });

  it('includes the referenced resources a record viewer needs with search.mode include', async () => {
    const r = await h.call('GET', 'Observation', { query: `patient=${id.p1}&_include=Observation:subject&_include=*:performer` });
    const mode = (m: string) => r.resource.entry.filter((e: any) => e.search.mode === m).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`).sort();
    assert.deepEqual(mode('match').length, 2);
    assert.deepEqual(mode('include'), [`Patient/${id.p1}`, `Practitioner/${id.dr}`].sort());
    for (const e of r.resource.entry) assert.equal(e.fullUrl, `https://hb.example/fhir/${e.resource.resourceType}/${e.resource.id}`);
    const enc = await h.call('GET', 'Encounter', { query: `_id=${id.e1}&_include=Encounter:patient&_include=Encounter:service-provider` });
    assert.deepEqual(enc.resource.entry.map((e: any) => e.resource.resourceType).sort(), ['Encounter', 'Organization', 'Patient']);
    const mr = await h.call('GET', 'MedicationRequest', { query: `_id=${id.mr1}&_include=MedicationRequest:medication` });
    assert.deepEqual(mr.resource.entry.map((e: any) => e.resource.resourceType), ['MedicationRequest', 'Medication']);
    const dr = await h.call('GET', 'DiagnosticReport', { query: `_id=${id.dr1}&_include=DiagnosticReport:result` });
    assert.deepEqual(dr.resource.entry.map((e: any) => e.resource.id), [id.dr1, id.o2]);
  });

  it('reverse-includes the resources that point at the matches', async () => {
    const r = await h.call('GET', 'Patient', { query: `_id=${id.p2}&_revinclude=Observation:subject&_revinclude=Immunization:patient` });
    const inc = r.resource.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => e.resource.id).sort();
    assert.deepEqual(inc, [id.o3, id.im1].sort());
  });

  it('sorts by date descending and by birthdate', async () => {
    const r = await h.call('GET', 'Observation', { query: '_sort=-date' });
    assert.deepEqual(r.resource.entry.map((e: any) => e.resource.id), [id.o1, id.o2, id.o3]);
    const p = await h.call('GET', 'Patient', { query: '_sort=birthdate' });
    assert.deepEqual(p.resource.entry.map((e: any) => e.resource.id), [id.p1, id.p2]);
    assert.equal((await h.call('GET', 'Patient', { query: '_sort=gender' })).status, 400);
  });

  it('answers 400 naming an unknown parameter, and ignores it with Prefer: handling=lenient', async () => {
    const r = await h.call('GET', 'Patient', { query: 'nmae=张' });
    assert.equal(r.status, 400);
    assert.deepEqual(r.resource.issue[0].expression, ['nmae']);
    assert.match(r.resource.issue[0].details.text, /nmae/);
    const lenient = await h.call('GET', 'Patient', { query: 'nmae=张', headers: { prefer: 'handling=lenient' } });
    assert.equal(lenient.status, 200);
    assert.equal((await h.call('GET', 'Patient', { query: 'birthdate=yesterday' })).status, 400);
    assert.equal((await h.call('GET', 'Patient', { query: 'name:contains=张' })).status, 400);
    assert.equal((await h.call('GET', 'Observation', { query: 'subject.name=张' })).status, 400);
  });

  it('answers _summary=count with the total and no entries', async () => {
    const r = await h.call('GET', 'Observation', { query: `patient=${id.p1}&_summary=count` });
    assert.equal(r.resource.total, 2);
    assert.deepEqual(r.resource.entry, []);
    assert.equal((await h.call('GET', 'Observation', { query: '_summary=text' })).status, 400);
    const zero = await h.call('GET', 'Observation', { query: '_count=0' });
    assert.equal(zero.resource.total, 3);
    assert.ok(!zero.resource.link.some((l: any) => l.relation === 'next'));
  });

  it('searches with POST _search and a form body', async () => {
    const r = await h.call('POST', 'Patient/_search', { body: 'family=张' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.resource.entry.map((e: any) => e.resource.id), [id.p1]);
  });
});

describe('FHIR search paging', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
    const entry = Array.from({ length: 47 }, (_, i) => ({ resource: patient(`PAGE-${i}`, { birthDate: `19${String(50 + (i % 7)).padStart(2, '0')}-01-01` }), request: { method: 'POST', url: 'Patient' } }));
    await h.call('POST', '', { body: { resourceType: 'Bundle', type: 'transaction', entry } });
    for (let i = 0; i < 3; i++) await h.call('POST', 'Patient', { body: patient(`PAGE-LATE-${i}`) });
  });
  after(() => h.close());

  for (const sort of ['', '_sort=birthdate', '_sort=-_lastUpdated']) {
    it(`pages through every result with no duplicate and no gap following next links (${sort || 'default order'})`, async () => {
      const seen: string[] = [];
      let query = `family=张&_count=10${sort ? '&' + sort : ''}`;
      let pages = 0;
      for (;;) {
        const r = await h.call('GET', 'Patient', { query });
        assert.equal(r.status, 200);
        seen.push(...r.resource.entry.map((e: any) => e.resource.id));
        pages++;
        const next = r.resource.link.find((l: any) => l.relation === 'next');
        if (!next) break;
        assert.ok(r.resource.link.find((l: any) => l.relation === 'self'));
        query = new URL(next.url).search.slice(1);
      }
      assert.equal(pages, 5);
      assert.equal(seen.length, 50);
      assert.equal(new Set(seen).size, 50);
    });
  }

  it('defaults _count to 20, caps it at 1000, reports a previous link and an accurate total on request', async () => {
    const r = await h.call('GET', 'Patient');
    assert.equal(r.resource.entry.length, 20);
    const big = await h.call('GET', 'Patient', { query: '_count=5000&_total=accurate' });
    assert.equal(big.resource.total, 50);
    assert.match(big.resource.link[0].url, /_count=1000/);
    const second = await h.call('GET', 'Patient', { query: '_count=10&_offset=10' });
    assert.ok(second.resource.link.some((l: any) => l.relation === 'previous'));
  });
});
