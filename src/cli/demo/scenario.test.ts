import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { generateCounty } from '../../synth/index.ts';
import { rankScenario, type ScenarioCandidates } from './scenario.ts';

let dir: string;
let ranked: ScenarioCandidates;
let mrns: Array<{ inst: string; person: string; errors: string }>;
const CLINIC = '330523A001';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hb-demo-scenario-'));
  await generateCounty({ outDir: join(dir, 'county'), persons: 600, seed: 11, years: 1, endDate: '2026-06-30' });
  ranked = await rankScenario(join(dir, 'county'), CLINIC);
  mrns = parse(readFileSync(join(dir, 'county/truth/mrns.csv'), 'utf8'), { columns: true });
});
after(() => rm(dir, { recursive: true, force: true }));

const truthInstitutions = (person: string) => [...new Set(mrns.filter((m) => m.person === person).map((m) => m.inst))].sort();

test('ranks shared candidates seen at the clinician institution and two others, with a lab series', () => {
  assert.ok(ranked.shared.length > 0);
  for (const c of ranked.shared) {
    assert.deepEqual(c.institutions, truthInstitutions(c.truthId));
    assert.ok(c.institutions.includes(CLINIC) && c.institutions.length >= 3, c.truthId);
    assert.ok(c.labPoints >= 3, `${c.truthId} has ${c.labPoints} points of ${c.labCode}`);
    assert.match(c.residentId, /^\d{17}[\dX]$/);
  }
});

test('ranks unrelated candidates never seen at the clinician institution', () => {
  assert.ok(ranked.unrelated.length > 0);
  for (const c of ranked.unrelated) assert.ok(!truthInstitutions(c.truthId).includes(CLINIC), c.truthId);
});

test('keeps only persons registered without injected errors', () => {
  const dirty = new Set(mrns.filter((m) => m.errors).map((m) => m.person));
  for (const c of [...ranked.shared, ...ranked.unrelated]) assert.ok(!dirty.has(c.truthId), c.truthId);
});

test('is deterministic for a given county', async () => {
  assert.deepEqual(await rankScenario(join(dir, 'county'), CLINIC), ranked);
});
