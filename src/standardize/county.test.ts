import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeableConcept, Observation, Resource } from '@medplum/fhirtypes';
import { parse } from 'csv-parse/sync';
import type { Db } from '../store/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import { decodeUnit } from '../ingest/index.ts';
import { generateCounty } from '../synth/index.ts';
import { sameStandard, type TruthMapRow } from '../terminology/evaluate.ts';
import { SYSTEMS } from '../terminology/index.ts';
import { landCounty, standardizeCounty, type CountyRun } from './county-run.ts';
import { stableId } from './ids.ts';
import { openStandardization, type StandardizeServices } from './index.ts';
import { r4Errors } from './test-support.ts';

// A small synthetic county through standardization, compared with its ground truth (truth/ is read by this test
// only, never by the platform). The operator is simulated: every unmapped local code is confirmed with its top-1
// suggestion, so the code agreement measured here is that of automatic maps + top-1 suggestions.
interface TruthRecord { id: string; inst: string; kind: string; malformed?: string; codes?: Array<{ kind: string; code: string; local?: string; value?: number; unit?: string }> }

let db: Db;
let dir: string;
let services: StandardizeServices;
let run: CountyRun;
let truth: TruthRecord[];
let units: Array<{ id: number; institution_id: string; status: string; reasons: Array<{ code: string }> | null; text: string }>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hb-std-county-'));
  await generateCounty({ persons: 120, seed: 5, outDir: dir });
  db = await openTestDb();
  await landCounty(db, dir);
  // The FHIR channel normally hands Bundles to the FHIR router and the worker only picks up old ones (crash
  // recovery); here every Bundle goes through the standardizer, so they are aged past that window.
  await db.exec(`UPDATE landed_unit SET received_at = now() - interval '1 hour' WHERE channel = 'fhir'`);
  services = await openStandardization(db);
  run = await standardizeCounty(db, services, true);
  truth = readFileSync(join(dir, 'truth', 'records.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const { rows } = await db.query<{ id: number; institution_id: string; status: string; reasons: Array<{ code: string }> | null; content: Uint8Array; encoding: string }>(
    `SELECT id, institution_id, status, reasons, content, encoding FROM landed_unit ORDER BY id`);
  units = rows.map((r) => ({ id: Number(r.id), institution_id: r.institution_id, status: r.status, reasons: r.reasons, text: decodeUnit({ ...r, content: db.crypto.unseal(r.content) }) }));
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const unitOf = (r: TruthRecord) => {
  const key = r.id.includes('|') ? r.id.split('|').at(-1)! : r.id;
  return units.find((u) => u.institution_id === r.inst && u.text.includes(key));
};

test('every landed unit ends standardized or quarantined, and every produced resource is valid R4 with lineage', () => {
  assert.equal(units.filter((u) => u.status === 'landed').length, 0);
  assert.ok(run.resources.size > 1000, `${run.resources.size} resources`);
  for (const r of run.resources.values()) {
    assert.match(r.meta?.source ?? '', /^urn:healthbrain:landing:\d+$/);
    assert.deepEqual(r4Errors(r), [], `${r.resourceType}/${r.id}`);
  }
});

test('every injected malformed record is quarantined with the right reason', () => {
  const expected: Record<string, string[]> = { 'short-row': ['csv-field-count'], truncated: ['missing-required', 'unparseable'], 'invalid-encounter': ['invalid-resource'] };
  const malformed = truth.filter((r) => r.malformed);
  assert.ok(malformed.length > 0);
  for (const r of malformed) {
    const u = unitOf(r);
    assert.ok(u, `unit of ${r.id}`);
    assert.equal(u.status, 'quarantined', `${r.id} (${r.malformed})`);
    assert.ok(u.reasons?.some((x) => expected[r.malformed!]?.includes(x.code)), `${r.id} ${r.malformed} → ${JSON.stringify(u.reasons)}`);
  }
});

test('nothing else stays quarantined but impossible values and records of patients their institution never registered', () => {
  const malformedUnits = new Set(truth.filter((r) => r.malformed).map((r) => unitOf(r)?.id));
  // The truth's registrations: a record for an (institution, MRN) with none of these is an orphan the platform holds.
  const registering = new Set(['patient', 'health_archive', 'ADT^A01', 'ADT^A04', 'ADT^A08', 'Patient']);
  const registered = new Set(truth.filter((r) => registering.has(r.kind) && !r.malformed).map((r) => `${r.inst}|${(r as { mrn?: string }).mrn}`));
  const other = units.filter((u) => u.status === 'quarantined' && !malformedUnits.has(u.id));
  const unexpected = other.filter((u) => !(u.reasons ?? []).every((r) =>
    r.code === 'value-out-of-range' || (r.code === 'unknown-patient' && !registered.has(`${u.institution_id}|${(r as { patient?: { mrn: string } }).patient?.mrn}`))));
  assert.deepEqual(unexpected.map((u) => u.reasons), []);
  const impossible = other.filter((u) => u.reasons?.some((r) => r.code === 'value-out-of-range'));
  console.log(`# held: ${other.length - impossible.length} records of unregistered patients, ${impossible.length} impossible values`);
  assert.ok(impossible.length <= units.length * 0.005, `${impossible.length} implausible values`);
});

test('local codes are recoded to the true standard code (automatic maps + top-1 confirmations)', () => {
  const map = parse(readFileSync(join(dir, 'truth', 'code-map.csv'), 'utf8'), { columns: true }) as TruthMapRow[];
  const byLocal = new Map(map.map((m) => [`${m.inst}|${m.kind}|${m.local_code}`, m]));
  const instOfUnit = new Map(units.map((u) => [u.id, u.institution_id]));
  const kindOf: Record<string, string> = { [SYSTEMS.icd10]: 'diagnosis', [SYSTEMS.loinc]: 'lab', [SYSTEMS.atc]: 'drug', [SYSTEMS.vaccine]: 'vaccine', [SYSTEMS.icd9cm3]: 'procedure' };
  const tally = new Map<string, { agree: number; total: number }>();
  const check = (inst: string, cc: CodeableConcept | undefined) => {
    const std = cc?.coding?.[0];
    const local = cc?.coding?.at(-1);
    if (!std || !local || cc!.coding!.length < 2 || !kindOf[std.system!]) return;
    const kinds = kindOf[std.system!] === 'lab' ? ['lab', 'panel', 'exam'] : [kindOf[std.system!]];
    const truthRow = kinds.map((k) => byLocal.get(`${inst}|${k}|${local.code}`)).find(Boolean);
    if (!truthRow) return;
    const t = tally.get(truthRow.kind) ?? { agree: 0, total: 0 };
    tally.set(truthRow.kind, t);
    t.total++;
    if (sameStandard(services.terminology, truthRow.kind, std.code!, truthRow.standard_code)) t.agree++;
  };
  for (const r of run.resources.values()) {
    const inst = instOfUnit.get(Number(r.meta!.source!.split(':').at(-1)))!;
    const x = r as unknown as Record<string, CodeableConcept | undefined>;
    for (const el of ['code', 'medicationCodeableConcept', 'vaccineCode']) check(inst, x[el]);
  }
  let agree = 0;
  let total = 0;
  for (const [kind, t] of tally) {
    console.log(`# ${kind}: ${t.agree}/${t.total} codings agree with the truth (${((100 * t.agree) / t.total).toFixed(1)}%)`);
    agree += t.agree;
    total += t.total;
  }
  assert.ok(total > 500, `${total} coded elements checked`);
  assert.ok(agree / total >= 0.85, `${agree}/${total} agree`);
  assert.ok(tally.get('vaccine')!.agree === tally.get('vaccine')!.total);
});

test('lab values are converted to the canonical unit and equal the true values', () => {
  let checked = 0;
  const bad: string[] = [];
  for (const r of truth) {
    const lab = r.codes?.filter((c) => c.kind === 'lab' && c.value !== undefined) ?? [];
    if (!lab.length || r.malformed) continue;
    // CSV rows and FHIR entries: the Observation's id derives from the record id / fullUrl.
    const key = r.id.includes('|lab_result|') ? r.id.split('|').at(-1)! : r.kind === 'Observation' ? r.id : undefined;
    if (!key) continue;
    const o = run.resources.get(`Observation/${stableId('Observation', r.inst, key)}`) as Observation | undefined;
    if (!o) continue;
    const t = lab[0];
    checked++;
    if (o.valueQuantity?.code !== t.unit || Math.abs(o.valueQuantity!.value! - t.value!) > 0.01 + 0.01 * Math.abs(t.value!)) {
      bad.push(`${r.id}: ${o.valueQuantity?.value} ${o.valueQuantity?.code} vs ${t.value} ${t.unit}`);
    }
  }
  console.log(`# ${checked - bad.length}/${checked} lab values equal the truth in the canonical unit`);
  assert.ok(checked > 100, `${checked} checked`);
  assert.ok(bad.length <= checked * 0.01, bad.slice(0, 5).join('\n'));
});
