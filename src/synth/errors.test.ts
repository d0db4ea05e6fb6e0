import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidResidentId, residentIdCheckChar } from '../standards/index.ts';
import { homophoneOf, mistypeOneDigit, register, transposeDigits } from './errors.ts';
import type { Person } from './model.ts';
import { DEFAULT_ERROR_RATES } from './options.ts';
import { Rng } from './prng.ts';

function randomIds(n: number, rng: Rng): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const y = rng.int(1930, 2024);
    const first17 = `330523${y}${String(rng.int(1, 12)).padStart(2, '0')}${String(rng.int(1, 28)).padStart(2, '0')}${String(rng.int(0, 999)).padStart(3, '0')}`;
    out.push(first17 + residentIdCheckChar(first17));
  }
  return out;
}

test('every resident ID with one digit mistyped fails its check digit', () => {
  const rng = new Rng(1);
  for (const id of randomIds(5000, rng)) {
    assert.ok(isValidResidentId(id));
    const bad = mistypeOneDigit(id, rng);
    assert.equal(bad.length, 18);
    assert.equal([...bad].filter((c, i) => c !== id[i]).length, 1);
    assert.equal(isValidResidentId(bad), false, `${id} → ${bad}`);
  }
});

test('every resident ID with two adjacent digits transposed fails its check digit', () => {
  const rng = new Rng(2);
  let n = 0;
  for (const id of randomIds(5000, rng)) {
    const bad = transposeDigits(id, rng);
    if (!bad) continue;
    n++;
    assert.equal([...bad].sort().join(''), [...id].sort().join(''));
    assert.equal(isValidResidentId(bad), false, `${id} → ${bad}`);
  }
  assert.ok(n > 4900);
});

test('a homophone keeps the pinyin but changes a given-name character', async () => {
  const { pinyin } = await import('pinyin-pro');
  const rng = new Rng(3);
  for (const name of ['王伟', '李静', '张丽华', '陈明', '刘芳']) {
    const h = homophoneOf(name, 1, rng);
    assert.ok(h, name);
    assert.notEqual(h, name);
    assert.equal(h[0], name[0]);
    assert.equal(pinyin(h, { toneType: 'none' }), pinyin(name, { toneType: 'none' }));
  }
});

const person = (over: Partial<Person> = {}): Person => ({
  id: 'P0000001', idx: 1, householdId: 'H1', surname: '王', given: '伟', name: '王伟', sex: '1', birth: 3000,
  residentId: '33052319780309033X', phone: '13800000001', oldPhone: '13900000002', townshipIdx: 0, villageIdx: 0,
  villageCode: '330523001002', address: '浙江省湖州市安吉县递铺街道', bornInPeriod: false, migrant: false, conditions: new Map(), control: 0.5,
  ...over,
});

test('a newborn is registered as <mother>之子 under the mother\'s resident ID when that error is drawn', () => {
  const mother = person({ id: 'P2', name: '李芳', sex: '2', residentId: '330523199001010028' });
  const baby = person({ id: 'P3', name: '王浩然', birth: 19500, residentId: '330523202310010011', bornInPeriod: true });
  const reg = register(baby, 'M1', { rates: { ...DEFAULT_ERROR_RATES, newbornUnderMother: 1 }, day: 19500, household: [mother, baby], mother, newborn: true, unknown: false }, new Rng(4));
  assert.equal(reg.name, '李芳之子');
  assert.equal(reg.idNumber, mother.residentId);
  assert.deepEqual(reg.errors, ['newbornUnderMother']);
});

test('an unknown emergency patient is registered as 无名氏 without identifiers', () => {
  const reg = register(person(), 'M2', { rates: DEFAULT_ERROR_RATES, day: 19500, household: [], newborn: false, unknown: true }, new Rng(5));
  assert.equal(reg.name, '无名氏');
  assert.equal(reg.idNumber, '');
  assert.equal(reg.birth, undefined);
  assert.deepEqual(reg.errors, ['unknownPatient']);
});

test('with every error rate at zero a registration is a faithful copy', () => {
  const zero = Object.fromEntries(Object.keys(DEFAULT_ERROR_RATES).map((k) => [k, 0])) as unknown as typeof DEFAULT_ERROR_RATES;
  const p = person();
  const reg = register(p, 'M3', { rates: zero, day: 19500, household: [p], newborn: false, unknown: false }, new Rng(6));
  assert.deepEqual([reg.name, reg.idNumber, reg.sex, reg.birth, reg.phone, reg.errors], [p.name, p.residentId, p.sex, p.birth, p.phone, []]);
});
