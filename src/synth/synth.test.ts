import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { isValidResidentId, parseResidentId } from '../standards/index.ts';
import { CHRONIC, prevalence } from './catalog/conditions.ts';
import { checkFeeds, decode, type FeedCheck } from './check-feeds.ts';
import type { CountyJson } from './county-types.ts';
import { hasHomophone, hasLookalike } from './errors.ts';
import { DEFAULT_ERROR_RATES, generateCounty, type SynthSummary } from './index.ts';
import { PYRAMID } from './population.ts';

interface PersonTruth {
  id: string; name: string; surname: string; sex: '1' | '2'; birthDate: string; residentId?: string; passport?: string; townshipCode: string; bornInPeriod?: boolean;
  conditions: { key: string; diagnosed: boolean }[];
}
interface RecordTruth { id: string; inst: string; file: string; kind: string; person: string; mrn: string; codes?: { kind: string; system: string; code: string; local?: string }[]; errors?: string[]; copies?: number; lateDays?: number; malformed?: string; outbreak?: boolean }

const root = mkdtempSync(join(tmpdir(), 'synth-test-'));
const ndjson = <T>(file: string): T[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);

function hashDir(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(p.slice(dir.length)).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

describe('synthetic county (1,500 persons, default error rates)', () => {
  const dir = join(root, 'county');
  let summary: SynthSummary;
  let persons: PersonTruth[];
  let records: RecordTruth[];
  let county: CountyJson;
  let feeds: FeedCheck;

  before(async () => {
    summary = await generateCounty({ outDir: dir, persons: 1500, seed: 11 });
    persons = ndjson<PersonTruth>(join(dir, 'truth/persons.ndjson'));
    records = ndjson<RecordTruth>(join(dir, 'truth/records.ndjson'));
    county = JSON.parse(readFileSync(join(dir, 'county.json'), 'utf8')) as CountyJson;
    feeds = checkFeeds(dir);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('generates exactly the requested number of persons with unique ids and resident IDs', () => {
    assert.equal(persons.length, 1500);
    assert.equal(summary.persons, 1500);
    assert.equal(new Set(persons.map((p) => p.id)).size, 1500);
    const ids = persons.map((p) => p.residentId).filter(Boolean);
    assert.equal(new Set(ids).size, ids.length);
  });

  test('every true resident ID validates and encodes the birth date and sex', () => {
    for (const p of persons) {
      if (!p.residentId) {
        assert.ok(p.passport, `${p.id} has neither resident ID nor passport`);
        continue;
      }
      const f = parseResidentId(p.residentId);
      assert.ok(f, `${p.residentId} invalid`);
      assert.equal(f.birthDate, p.birthDate);
      assert.equal(f.sex, p.sex === '1' ? 'male' : 'female');
    }
  });

  test('every mistyped resident ID in the CSV feeds fails its check digit', () => {
    const mrnErrors = new Map<string, string[]>();
    for (const line of readFileSync(join(dir, 'truth/mrns.csv'), 'utf8').split('\n').slice(1).filter(Boolean)) {
      const [inst, mrn, , errors] = line.split(',');
      mrnErrors.set(`${inst}|${mrn}`, errors ? errors.split(' ') : []);
    }
    let checked = 0;
    for (const inst of county.institutions.filter((i) => i.format === 'csv' && i.csv!.columnOrder.patient)) {
      const rows = parse(decode(readFileSync(join(dir, inst.feedDir, 'patient.csv')), inst.encoding), { delimiter: inst.csv!.delimiter, columns: true, relax_column_count: true }) as Record<string, string>[];
      for (const row of rows) {
        const mrn = row['患者编号'] ?? row.patient_local_id;
        const id = row['证件号码'] ?? row.id_number;
        const errs = mrnErrors.get(`${inst.code}|${mrn}`) ?? [];
        if (errs.includes('idOneDigit') || errs.includes('idTransposed')) {
          assert.equal(isValidResidentId(id), false, `${id} should fail`);
          checked++;
        } else if (id && (row['证件类型'] ?? row.id_type) === '01' && errs.length === 0) assert.ok(isValidResidentId(id), `${id} should validate`);
      }
    }
    assert.ok(checked > 0, 'no mistyped IDs were found to check');
  });

  test('the age structure is that of an ageing county within 3 points of the target pyramid', () => {
    const start = Date.parse(`${county.period.start}T00:00:00Z`);
    const atStart = persons.filter((p) => !p.bornInPeriod);
    const age = (p: PersonTruth) => (start - Date.parse(`${p.birthDate}T00:00:00Z`)) / 31_557_600_000;
    const share = (lo: number, hi: number) => atStart.filter((p) => age(p) >= lo && age(p) < hi).length / atStart.length;
    const total = PYRAMID.reduce((a, b) => a + b, 0);
    const target = (lo: number, hi: number) => PYRAMID.slice(lo / 5, hi / 5).reduce((a, b) => a + b, 0) / total;
    assert.ok(Math.abs(share(0, 15) - target(0, 15)) < 0.03, `0-14: ${share(0, 15)} vs ${target(0, 15)}`);
    assert.ok(Math.abs(share(65, 200) - target(65, 90)) < 0.03, `65+: ${share(65, 200)} vs ${target(65, 90)}`);
    assert.ok(share(65, 200) > 0.14, 'an ageing county has more than 14% aged 65+');
    assert.ok(share(20, 40) < target(40, 60), 'working-age out-migration: fewer 20–39 than 40–59');
  });

  test('chronic prevalence by age band and sex matches the published tables within sampling tolerance', () => {
    const start = Date.parse(`${county.period.start}T00:00:00Z`);
    const adults = persons.filter((p) => !p.bornInPeriod).map((p) => ({ p, age: (start - Date.parse(`${p.birthDate}T00:00:00Z`)) / 31_557_600_000 - 0.5 }));
    for (const c of CHRONIC) {
      for (const [lo, hi] of [[35, 55], [55, 75], [75, 120]]) {
        const group = adults.filter((a) => a.age >= lo && a.age < hi);
        if (group.length < 80) continue;
        const dm = (a: (typeof group)[number]) => a.p.conditions.some((x) => x.key === 'diabetes');
        const expected = group.reduce((s, a) => {
          const base = prevalence(c, a.age, a.p.sex);
          return s + (c.key === 'hypertension' && dm(a) ? Math.min(0.85, base * 1.4) : base);
        }, 0) / group.length;
        const observed = group.filter((a) => a.p.conditions.some((x) => x.key === c.key)).length / group.length;
        const tol = 4 * Math.sqrt((expected * (1 - expected)) / group.length) + 0.01;
        assert.ok(Math.abs(observed - expected) <= tol, `${c.key} ${lo}-${hi}: observed ${observed.toFixed(3)} expected ${expected.toFixed(3)} (n=${group.length})`);
      }
    }
    const htn = adults.filter((a) => a.age >= 18);
    const share = htn.filter((a) => a.p.conditions.some((x) => x.key === 'hypertension')).length / htn.length;
    assert.ok(share > 0.2 && share < 0.45, `adult hypertension ${share}`);
  });

  test('every FHIR Bundle validates against FHIR R4 except the entries the truth lists as malformed', () => {
    const malformed = new Set(records.filter((r) => r.malformed && r.file === 'bundles.ndjson').map((r) => r.id));
    assert.ok(feeds.bundles > 0);
    for (const [url, issue] of feeds.fhirInvalid) assert.ok(malformed.has(url), `unexpected FHIR issue at ${url}: ${issue}`);
    for (const url of malformed) assert.ok(feeds.fhirInvalid.has(url), `malformed entry ${url} validated`);
  });

  test('every HL7 message parses with MSH-10, and the control ids are exactly the truth records', () => {
    assert.deepEqual(feeds.hl7Problems, []);
    const truth = new Map(records.filter((r) => r.file === 'messages.hl7').map((r) => [r.id, r.copies ?? 1]));
    assert.equal(feeds.hl7ControlIds.size, truth.size);
    for (const [id, n] of feeds.hl7ControlIds) assert.equal(n, truth.get(id), id);
  });

  test('every CSV parses after decoding and each row is a truth record (duplicates resent with the same record id)', () => {
    const truth = records.filter((r) => r.file.endsWith('.csv'));
    const malformedWithoutId = truth.filter((r) => r.malformed).length;
    assert.ok(feeds.csvRows > 0);
    assert.equal(feeds.csvShortRows, truth.filter((r) => r.malformed).reduce((s, r) => s + (r.copies ?? 1), 0));
    let matched = 0;
    for (const r of truth) {
      const seen = feeds.csvRecordIds.get(r.id);
      if (seen !== undefined) {
        assert.equal(seen, r.copies ?? 1, r.id);
        matched++;
      } else assert.ok(r.malformed, `row ${r.id} missing from the feed`);
    }
    assert.ok(matched >= truth.length - malformedWithoutId);
  });

  test('per-institution counts reconcile with the feeds', () => {
    const counts = JSON.parse(readFileSync(join(dir, 'truth/counts.json'), 'utf8')) as { institutions: Record<string, { records: number; duplicates: number; files: Record<string, number> }> };
    let hl7 = 0;
    let csv = 0;
    let fhirEntries = 0;
    for (const inst of county.institutions) {
      const c = counts.institutions[inst.code];
      assert.ok(c, inst.code);
      for (const [file, n] of Object.entries(c.files)) {
        if (file.endsWith('.hl7')) hl7 += n;
        else if (file.endsWith('.csv')) csv += n;
        else fhirEntries += n;
      }
    }
    assert.equal(hl7, feeds.hl7Messages);
    assert.equal(csv, feeds.csvRows);
    assert.equal(fhirEntries, feeds.bundleEntries);
    assert.equal(summary.records, hl7 + csv + fhirEntries);
  });

  test('every local code in the truth maps to exactly one standard code in truth/code-map.csv', () => {
    const rows = parse(readFileSync(join(dir, 'truth/code-map.csv')), { columns: true }) as Record<string, string>[];
    const map = new Map<string, Set<string>>();
    for (const r of rows) {
      const k = `${r.inst}|${r.kind}|${r.local_code}`;
      map.set(k, (map.get(k) ?? new Set()).add(r.standard_code));
    }
    for (const s of map.values()) assert.equal(s.size, 1);
    const kinds: Record<string, string> = { diagnosis: 'diagnosis', lab: 'lab', exam: 'exam', drug: 'drug', procedure: 'procedure', vaccine: 'vaccine' };
    let n = 0;
    for (const r of records) {
      for (const c of r.codes ?? []) {
        if (!c.local || !kinds[c.kind] || (c.kind === 'diagnosis' && r.kind === 'chronic_followup')) continue;
        const std = map.get(`${r.inst}|${kinds[c.kind]}|${c.local}`);
        assert.ok(std?.has(c.code), `${r.inst} ${c.kind} ${c.local} → ${c.code}`);
        n++;
      }
    }
    assert.ok(n > 1000);
  });

  test('the ILI outbreak adds flagged influenza visits only in its township', () => {
    const ob = JSON.parse(readFileSync(join(dir, 'truth/outbreak.json'), 'utf8')) as { townshipCode: string; excessCases: number };
    const byId = new Map(persons.map((p) => [p.id, p]));
    const flagged = records.filter((r) => r.outbreak);
    assert.ok(ob.excessCases > 0);
    for (const r of flagged) assert.equal(byId.get(r.person)!.townshipCode, ob.townshipCode);
  });

  test('common-name strangers occur: different persons share a full name in one township', () => {
    const seen = new Map<string, string>();
    let pairs = 0;
    for (const p of persons) {
      const k = `${p.name}|${p.townshipCode}`;
      if (seen.has(k) && seen.get(k) !== p.id) pairs++;
      seen.set(k, p.id);
    }
    assert.ok(pairs > 0);
  });

  test('foreign residents carry passports and Latin-script names', () => {
    const foreign = persons.filter((p) => p.passport);
    for (const p of foreign) {
      assert.match(p.name, /^[A-Z ]+$/);
      assert.equal(p.residentId, undefined);
    }
  });
});

describe('error model (800 persons, raised error rates)', () => {
  const dir = join(root, 'errors');
  const rates = { ...DEFAULT_ERROR_RATES, nameTypo: 0.06, homophone: 0.06, idMissing: 0.06, idOneDigit: 0.05, idTransposed: 0.05, idFullWidth: 0.05, sexMissing: 0.06, stalePhone: 0.06, dayMonthSwap: 0.1, duplicate: 0.05, late: 0.06, malformed: 0.03 };

  test('the configured error rates are met within binomial tolerance', async () => {
    await generateCounty({ outDir: dir, persons: 800, seed: 3, errorRates: rates });
    const persons = new Map(ndjson<PersonTruth>(join(dir, 'truth/persons.ndjson')).map((p) => [p.id, p]));
    const regs = readFileSync(join(dir, 'truth/mrns.csv'), 'utf8').split('\n').slice(1).filter(Boolean).map((l) => {
      const [, , person, errors] = l.split(',');
      return { p: persons.get(person)!, errors: errors ? errors.split(' ') : [] };
    });
    // Ordinary registrations: not newborn/无名氏, Chinese residents.
    const ordinary = regs.filter((r) => !r.p.passport && !r.errors.some((e) => e === 'newbornUnderMother' || e === 'unknownPatient') && !(r.p.bornInPeriod && r.errors.length === 0));
    const check = (name: string, pool: typeof ordinary, rate: number) => {
      const k = pool.filter((r) => r.errors.includes(name)).length;
      const tol = 4 * Math.sqrt((rate * (1 - rate)) / pool.length);
      assert.ok(Math.abs(k / pool.length - rate) <= tol, `${name}: ${(k / pool.length).toFixed(4)} vs ${rate} (n=${pool.length})`);
    };
    check('idMissing', ordinary, rates.idMissing);
    check('idOneDigit', ordinary, rates.idOneDigit);
    check('idTransposed', ordinary, rates.idTransposed);
    check('idFullWidth', ordinary, rates.idFullWidth);
    check('sexMissing', ordinary, rates.sexMissing);
    check('stalePhone', ordinary, rates.stalePhone);
    check('nameTypo', ordinary.filter((r) => hasLookalike(r.p.name)), rates.nameTypo);
    check('homophone', ordinary.filter((r) => hasHomophone(r.p.name, r.p.surname.length)), rates.homophone);
    const swappable = ordinary.filter((r) => {
      const [, m, d] = r.p.birthDate.split('-').map(Number);
      return d <= 12 && d !== m;
    });
    check('dayMonthSwap', swappable, rates.dayMonthSwap);

    const records = ndjson<RecordTruth>(join(dir, 'truth/records.ndjson'));
    // Transmission faults are drawn per HL7 message, per CSV row and per Bundle (seen on its Encounter entry).
    const units = records.filter((r) => r.file !== 'bundles.ndjson' || r.kind === 'Encounter');
    const share = (f: (r: RecordTruth) => boolean) => units.filter(f).length / units.length;
    const tol = (p: number) => 4 * Math.sqrt((p * (1 - p)) / units.length);
    assert.ok(Math.abs(share((r) => (r.copies ?? 1) > 1) - rates.duplicate) <= tol(rates.duplicate), 'duplicate rate');
    assert.ok(Math.abs(share((r) => !!r.lateDays) - rates.late) <= tol(rates.late), 'late rate');
    assert.ok(Math.abs(share((r) => !!r.malformed) - rates.malformed) <= tol(rates.malformed), 'malformed rate');
  });

  test('the same seed gives byte-identical output and another seed does not', async () => {
    await generateCounty({ outDir: join(root, 'a'), persons: 300, seed: 42 });
    await generateCounty({ outDir: join(root, 'b'), persons: 300, seed: 42, workers: 2 });
    await generateCounty({ outDir: join(root, 'c'), persons: 300, seed: 43 });
    assert.equal(hashDir(join(root, 'a')), hashDir(join(root, 'b')));
    assert.notEqual(hashDir(join(root, 'a')), hashDir(join(root, 'c')));
  });
});
