import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayUnit, formatQuantity, formatRange, formatValue, labFlag } from './units.ts';

test('shows UCUM units the way Chinese lab reports print them', () => {
  assert.equal(displayUnit('10*9/L'), '×10⁹/L');
  assert.equal(displayUnit('umol/L'), 'μmol/L');
  assert.equal(displayUnit('mmol/L'), 'mmol/L');
  assert.equal(displayUnit('ng/mL'), 'ng/mL');
});

test('formats values with a precision that fits their magnitude', () => {
  assert.equal(formatValue(6.8), '6.80');
  assert.equal(formatValue(0.256), '0.256');
  assert.equal(formatValue(56.25), '56.3');
  assert.equal(formatValue(132), '132');
  assert.equal(formatQuantity(7.2, 'mmol/L'), '7.20 mmol/L');
});

test('formats reference ranges, open-ended ones too', () => {
  assert.equal(formatRange({ low: 3.9, high: 6.1 }), '3.90–6.10');
  assert.equal(formatRange({ high: 5.2 }), '< 5.20');
  assert.equal(formatRange({ text: '阴性' }), '阴性');
  assert.equal(formatRange(undefined), '');
});

test('flags a value from its interpretation, else from the reference range', () => {
  assert.equal(labFlag({ value: 7.4, interpretation: 'HH' }), 'H');
  assert.equal(labFlag({ value: 7.4 }, { low: 3.9, high: 6.1 }), 'H');
  assert.equal(labFlag({ value: 3.1 }, { low: 3.9, high: 6.1 }), 'L');
  assert.equal(labFlag({ value: 5 }, { low: 3.9, high: 6.1 }), 'N');
});
