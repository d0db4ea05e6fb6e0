import assert from 'node:assert/strict';
import { test } from 'node:test';
import { en } from './en.ts';
import { translate } from './translate.ts';
import { zh } from './zh.ts';

test('the Chinese and English dictionaries have exactly the same keys', () => {
  assert.deepEqual(Object.keys(en).sort(), Object.keys(zh).sort());
});

test('no message is empty and placeholders match between languages', () => {
  const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of Object.keys(zh) as Array<keyof typeof zh>) {
    assert.ok(zh[key].trim() && en[key].trim(), `empty message ${key}`);
    assert.deepEqual(placeholders(en[key]), placeholders(zh[key]), `placeholders differ for ${key}`);
  }
});

test('fills placeholders and defaults to Chinese wording', () => {
  assert.equal(translate('zh', 'search.results', { total: 3 }), '共 3 位患者');
  assert.equal(translate('en', 'search.results', { total: 3 }), '3 patients');
});
