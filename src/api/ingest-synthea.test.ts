import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Condition, Encounter, Immunization, MedicationRequest, Observation, Resource } from '@medplum/fhirtypes';
import { openTestPlatform, type TestPlatform } from './testing.ts';

// Issue 17, its Done-when: real-world shaped FHIR — a Synthea R4 transaction Bundle (test/fixtures/synthea, written by
// hand in Synthea's exact shape: US Core extensions and identifiers, SNOMED CT, LOINC outside the shipped subset, UCUM,
// RxNorm, CVX) posted by a registered institution over HTTP is stored whole and searchable by its standard codes.
const FIXTURE = new URL('../../test/fixtures/synthea/synthea-transaction.json', import.meta.url);
const SCT = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';
const ICD10CN = 'https://healthbrain.cn/fhir/CodeSystem/icd-10-cn';

describe(`a Synthea transaction Bundle is stored whole and searchable by its standard codes on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let inst: Awaited<ReturnType<TestPlatform['addInstitution']>>;
  let admin: string;
  let answer: Bundle;
  const bundle = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Bundle;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    p.app.inject({ method: 'POST', url: '/fhir', headers: { authorization: `Bearer ${inst.token}`, 'content-type': 'application/fhir+json', ...headers }, payload: JSON.stringify(body) });
  const search = async (query: string) => {
    const res = await p.app.inject({ method: 'GET', url: `/fhir/${query}`, headers: { authorization: `Bearer ${admin}` } });
    assert.equal(res.statusCode, 200, res.body);
    return ((res.json() as Bundle).entry ?? []).map((e) => e.resource as Resource);
  };

  before(async () => {
    p = await openTestPlatform();
    inst = await p.addInstitution('Worcester Medical Center');
    admin = await p.adminToken();
    const res = await post(bundle);
    assert.equal(res.statusCode, 200, res.body);
    answer = res.json() as Bundle;
  });
  after(() => p.close());

  it('stores every entry: a location per posted entry, 201 Created each (the Provenance not stored: lineage is meta.source), nothing quarantined', async () => {
    assert.equal(answer.type, 'transaction-response');
    assert.equal(answer.entry?.length, bundle.entry!.length);
    const kept = bundle.entry!.filter((e) => e.resource!.resourceType !== 'Provenance');
    assert.deepEqual(answer.entry!.map((e) => e.response?.status), bundle.entry!.map((e) => (e.resource!.resourceType === 'Provenance' ? '200 OK' : '201 Created')));
    assert.deepEqual(answer.entry!.flatMap((e) => (e.response?.location ? [e.response.location.split('/')[0]] : [])), kept.map((e) => e.resource!.resourceType));
    const units = await p.deps.db.query<{ status: string }>(`SELECT status FROM landed_unit WHERE institution_id = $1`, [inst.id]);
    assert.deepEqual(units.rows.map((r) => r.status), ['standardized']);
  });

  it('finds the SNOMED CT condition by its code, kept as sent with its display, and records its missing ICD-10-CN map as a data-quality finding', async () => {
    const [c] = (await search(`Condition?code=${encodeURIComponent(`${SCT}|162864005`)}`)) as Condition[];
    assert.ok(c, 'found by its SNOMED CT code');
    assert.deepEqual(c.code?.coding, [{ system: SCT, code: '162864005', display: 'Body mass index 30+ - obesity (finding)' }]);
    const f = await p.deps.db.query<{ finding: string; kind: string; target_system: string; seen_count: number }>(
      `SELECT finding, kind, target_system, seen_count::int AS seen_count FROM terminology_code_finding WHERE institution_id = $1 AND system = $2 AND code = '162864005'`, [inst.id, SCT],
    );
    assert.deepEqual(f.rows, [{ finding: 'no-reporting-map', kind: 'diagnosis', target_system: ICD10CN, seen_count: 1 }]);
    const unmapped = await p.deps.db.query(`SELECT 1 FROM terminology_unmapped WHERE institution_id = $1`, [inst.id]);
    assert.equal(unmapped.rows.length, 0, 'no standard code lands on the operator\'s unmapped work list');
  });

  it('finds every Observation by its LOINC code — inside the shipped subset (converted to the canonical unit) and outside it (kept as sent, UCUM unit)', async () => {
    const one = async (code: string) => {
      const found = (await search(`Observation?code=${encodeURIComponent(`${LOINC}|${code}`)}`)) as Observation[];
      assert.equal(found.length, 1, `Observation ${code}`);
      return found[0];
    };
    const pain = await one('72514-3');
    assert.deepEqual(pain.valueQuantity, { value: 2, unit: '{score}', system: 'http://unitsofmeasure.org', code: '{score}' });
    assert.equal(pain.code.coding?.[0].display, 'Pain severity - 0-10 verbal numeric rating [Score] - Reported');
    assert.deepEqual([(await one('8302-2')).valueQuantity?.value, (await one('29463-7')).valueQuantity?.code], [175.3, 'kg']);
    const ldl = await one('18262-6');
    assert.deepEqual([ldl.valueQuantity?.value, ldl.valueQuantity?.code], [112.4, 'mg/dL']);
    const chol = await one('2093-3');
    assert.equal(chol.code.coding?.[0].code, '14647-2', 'the shipped subset\'s canonical (molar) code first, the code as sent kept');
    const bp = await one('85354-9');
    assert.deepEqual(bp.component?.map((c) => [c.code.coding?.[0].code, c.valueQuantity?.value]), [['8462-4', 84], ['8480-6', 128]]);
    const smoking = await one('72166-2');
    assert.equal(smoking.valueCodeableConcept?.coding?.[0].code, '266919005');
    const report = (await search(`DiagnosticReport?code=${encodeURIComponent(`${LOINC}|57698-3`)}`))[0] as { result?: Array<{ reference?: string }> };
    assert.deepEqual(report.result?.map((r) => r.reference).sort(), [`Observation/${chol.id}`, `Observation/${ldl.id}`].sort());
  });

  it('finds the RxNorm medication, the CVX immunization, the SNOMED CT procedure and encounter type by their codes', async () => {
    const [m] = (await search(`MedicationRequest?code=${encodeURIComponent('http://www.nlm.nih.gov/research/umls/rxnorm|314076')}`)) as MedicationRequest[];
    assert.equal(m?.medicationCodeableConcept?.coding?.[0].display, 'lisinopril 10 MG Oral Tablet');
    const [im] = (await search(`Immunization?vaccine-code=${encodeURIComponent('http://hl7.org/fhir/sid/cvx|140')}`)) as Immunization[];
    assert.ok(im, 'the immunization by its CVX code');
    assert.equal(im.vaccineCode.coding?.filter((c) => c.system === 'http://hl7.org/fhir/sid/cvx').length, 1);
    assert.equal((await search(`Procedure?code=${encodeURIComponent(`${SCT}|430193006`)}`)).length, 1);
    const [enc] = (await search(`Encounter?type=${encodeURIComponent(`${SCT}|162673000`)}`)) as Encounter[];
    assert.ok(enc, 'the encounter by its SNOMED CT type');
    const [c] = (await search(`Condition?code=${encodeURIComponent(`${SCT}|162864005`)}`)) as Condition[];
    assert.equal(c.encounter?.reference, `Encounter/${enc.id}`, 'references re-pointed to the platform\'s ids');
  });

  it('keeps the Claim, ExplanationOfBenefit and CareTeam as sent, their references re-pointed to the stored resources, the Patient and the institution', async () => {
    const at = (type: string) => answer.entry!.find((e) => e.response?.location?.startsWith(`${type}/`))!.response!.location!.split('/_history')[0];
    const get = async (loc: string) => (await p.app.inject({ method: 'GET', url: `/fhir/${loc}`, headers: { authorization: `Bearer ${admin}` } })).json();
    const claim = await get(at('Claim'));
    assert.deepEqual([claim.patient.reference, claim.diagnosis[0].diagnosisReference.reference, claim.item[0].encounter[0].reference], [at('Patient'), at('Condition'), at('Encounter')]);
    assert.equal(claim.provider.reference, `Organization/${claim.meta.tag[0].code}`, 'the submitting institution stands for the sender\'s Organization');
    assert.equal(claim.total.value, 704.2);
    const eob = await get(at('ExplanationOfBenefit'));
    assert.deepEqual([eob.claim.reference, eob.insurance[0].coverage.reference, eob.contained[0].resourceType, eob.provider.display], [at('Claim'), '#coverage', 'Coverage', 'Practitioner (not stored)']);
    const team = await get(at('CareTeam'));
    assert.deepEqual(team.participant.map((x: { member: { reference?: string; display?: string } }) => x.member.reference ?? x.member.display), [at('Patient'), 'Dr. Delbert384 Koch169']);
    assert.equal(team.text, undefined, 'the sender\'s narrative is not kept');
  });
});
