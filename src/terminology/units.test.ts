import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loincRows } from './shipped.ts';
import { Terminology } from './terminology.ts';
import { normalizeQuantity, toUcum } from './units.ts';
import { SYSTEMS } from './systems.ts';

const t = Terminology.fromConcepts(loincRows());
const concept = (code: string) => t.lookup(SYSTEMS.loinc, code)!;
const twin = (code: string) => t.lookup(SYSTEMS.loinc, code);

test('spells local units as UCUM', () => {
  assert.equal(toUcum('mmol/l'), 'mmol/L');
  assert.equal(toUcum('μmol/L'), 'umol/L');
  assert.equal(toUcum('µmol/l'), 'umol/L');
  assert.equal(toUcum('×10^9/L'), '10*9/L');
  assert.equal(toUcum('10*9/L'), '10*9/L');
  assert.equal(toUcum('x10E12/L'), '10*12/L');
  assert.equal(toUcum('mmHg'), 'mm[Hg]');
  assert.equal(toUcum('次/分'), '/min');
  assert.equal(toUcum('MG/DL'), 'mg/dL');
  assert.equal(toUcum('furlongs per fortnight'), undefined);
});

test('converts fasting glucose mg/dL to mmol/L with its molar mass and recodes to the molar LOINC', () => {
  const r = normalizeQuantity(concept('1558-6'), 126, 'mg/dl', twin);
  assert.ok('value' in r);
  assert.equal(r.code, '14771-0');
  assert.equal(r.unit, 'mmol/L');
  assert.ok(Math.abs(r.value - 126 / 18.0156) < 0.001, String(r.value));
});

test('converts creatinine mg/dL to µmol/L (× 88.4) and keeps µmol/L as sent', () => {
  const r = normalizeQuantity(concept('2160-0'), 1.2, 'mg/dL', twin);
  assert.ok('value' in r);
  assert.equal(r.code, '14682-9');
  assert.ok(Math.abs(r.value - 106.08) < 0.05, String(r.value));
  const same = normalizeQuantity(concept('2160-0'), 88, 'μmol/L', twin);
  assert.ok('value' in same);
  assert.deepEqual([same.code, same.value, same.unit, same.converted], ['14682-9', 88, 'umol/L', false]);
});

test('converts hemoglobin g/dL to g/L and temperature °F to Cel through UCUM alone', () => {
  const hb = normalizeQuantity(concept('718-7'), 13.5, 'g/dL', twin);
  assert.ok('value' in hb && hb.value === 135);
  const temp = normalizeQuantity(concept('8310-5'), 98.6, '℉', twin);
  assert.ok('value' in temp && Math.abs(temp.value - 37) < 0.01);
});

test('takes the canonical unit when none is given, and refuses a unit of another dimension', () => {
  const r = normalizeQuantity(concept('8480-6'), 140, '', twin);
  assert.ok('value' in r && r.unit === 'mm[Hg]' && r.value === 140);
  const bad = normalizeQuantity(concept('14682-9'), 5, 'kg', twin);
  assert.ok('problem' in bad && bad.problem === 'unit-incompatible');
  const unknown = normalizeQuantity(concept('14682-9'), 5, 'blah', twin);
  assert.ok('problem' in unknown && unknown.problem === 'unit-unknown');
});

test('converts HbA1c from IFCC mmol/mol to NGSP percent', () => {
  const r = normalizeQuantity(concept('4548-4'), 53, 'mmol/mol', twin);
  assert.ok('value' in r && Math.abs(r.value - 7.0) < 0.05);
});
