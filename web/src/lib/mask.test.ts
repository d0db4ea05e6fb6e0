import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskCard, maskPhone, maskResidentId } from './mask.ts';

test('masks a resident ID keeping the division code and the last four', () => {
  assert.equal(maskResidentId('330523198001011234'), '330523********1234');
  assert.equal(maskResidentId('33052319800101123X'), '330523********123X');
});

test('masks a mobile number as 138****5678', () => {
  assert.equal(maskPhone('13812345678'), '138****5678');
  assert.equal(maskPhone('138-1234-5678'), '138****5678');
});

test('leaves an already masked identifier alone and empty ones empty', () => {
  assert.equal(maskResidentId('330523********1234'), '330523********1234');
  assert.equal(maskPhone(undefined), '');
  assert.equal(maskCard(''), '');
});

test('masks a health-card number keeping first and last four', () => {
  assert.equal(maskCard('E33052300012345678'), 'E330**********5678');
});
