import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codeSupport, nameFeatures, nameSimilarity, normalizeName } from './similarity.ts';

test('normalises full-width, traditional characters, roman numerals and punctuation', () => {
  assert.equal(normalizeName('Ⅱ型糖尿病（伴並發症）'), '2型糖尿病伴并发症');
  assert.equal(normalizeName('ＨｂＡ１ｃ'), 'hba1c');
});

test('a homophone typo is closer to its intended name than to an unrelated one', () => {
  const typo = nameFeatures('糖尿并');
  assert.ok(nameSimilarity(typo, nameFeatures('糖尿病')) > nameSimilarity(typo, nameFeatures('尿路感染')));
  assert.equal(nameSimilarity(nameFeatures('高血压'), nameFeatures('高 血 压')), 1);
});

test('an ICD or ICD-9-CM-3 local variant supports its standard code, a different code does not', () => {
  assert.equal(codeSupport('I10.x00x002', 'I10'), 0.6);
  assert.equal(codeSupport('E11.900', 'E11.9'), 0.8);
  assert.equal(codeSupport('74.103', '74.1'), 0.6);
  assert.equal(codeSupport('13.4101', '13.41'), 0.8);
  assert.equal(codeSupport('74.103', '74.0'), 0);
  assert.equal(codeSupport('GLU', '2345-7'), 0);
});
