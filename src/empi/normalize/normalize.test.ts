import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { normalizeAddress } from './address.ts';
import { normalizeBirthDate } from './date.ts';
import { normalizePassport, normalizeResidentId } from './identifier.ts';
import { normalizeName } from './name.ts';
import { normalizePhone } from './phone.ts';
import { normalizeSex } from './sex.ts';

describe('name normalisation', () => {
  it('turns traditional characters into simplified ones', () => {
    assert.equal(normalizeName('張麗華')?.key, '张丽华');
    assert.equal(normalizeName('陳國強')?.key, '陈国强');
  });
  it('removes full-width and stray spaces between characters', () => {
    assert.equal(normalizeName(' 王　 伟 ')?.key, '王伟');
  });
  it('gives homophones the same toneless pinyin but different keys', () => {
    const a = normalizeName('王伟')!;
    const b = normalizeName('王薇')!;
    assert.notEqual(a.key, b.key);
    assert.equal(a.pinyin, 'wangwei');
    assert.equal(normalizeName('王建国')?.pinyin, normalizeName('WANG Jianguo')?.pinyin);
    assert.equal(normalizeName('欧阳霁')?.pinyin, normalizeName('Ji OUYANG')?.pinyin);
    assert.equal(a.pinyin, b.pinyin);
    assert.equal(a.initials, 'ww');
  });
  it('reads a surname with its surname pronunciation (单 shan, 曾 zeng)', () => {
    assert.equal(normalizeName('单丽')?.pinyin, 'lishan');
    assert.equal(normalizeName('曾明')?.pinyin, 'mingzeng');
  });
  it('keeps a rare character typed as ? (or full-width ？) as a wildcard', () => {
    const n = normalizeName('王？明')!;
    assert.equal(n.key, '王?明');
    assert.equal(n.wildcard, true);
    assert.equal(n.pinyin, 'mingwang');
  });
  it('recognises a newborn registered as <mother>之子 / 之女 and keeps the mother name', () => {
    const n = normalizeName('张丽之子')!;
    assert.equal(n.kind, 'newborn');
    assert.equal(n.motherName, '张丽');
    assert.equal(normalizeName('李梅之女')?.kind, 'newborn');
    assert.equal(normalizeName('张子')?.kind, 'zh');
  });
  it('flags unknown emergency patients as carrying no name evidence', () => {
    assert.equal(normalizeName('无名氏')?.kind, 'unknown');
    assert.equal(normalizeName('无名氏3')?.kind, 'unknown');
    assert.equal(normalizeName('男性无名氏')?.kind, 'unknown');
    assert.equal(normalizeName('UNKNOWN')?.kind, 'unknown');
  });
  it('makes Latin names case-, order- and diacritic-free', () => {
    const a = normalizeName('SMITH John')!;
    const b = normalizeName('john smith')!;
    const c = normalizeName('José Müller')!;
    assert.equal(a.kind, 'latin');
    assert.equal(a.key, b.key);
    assert.equal(c.key, 'JOSE MULLER');
    assert.equal(normalizeName('NGUYEN Van-An')?.key, 'NGUYEN VANAN');
  });
});

describe('resident ID and passport normalisation', () => {
  it('accepts full-width digits and a lowercase x', () => {
    const r = normalizeResidentId('１１０１０５１９４９１２３１００２ｘ');
    assert.deepEqual(r, { id: '11010519491231002X', valid: true });
    assert.deepEqual(normalizeResidentId('11010519491231002x'), { id: '11010519491231002X', valid: true });
  });
  it('upgrades a 15-digit number to 18 digits', () => {
    assert.deepEqual(normalizeResidentId('110105491231002'), { id: '11010519491231002X', valid: true });
  });
  it('keeps a mistyped 18-digit number but marks it invalid', () => {
    assert.deepEqual(normalizeResidentId('11010519491231003X'), { id: '11010519491231003X', valid: false });
  });
  it('rejects what is not ID-shaped', () => {
    assert.equal(normalizeResidentId('12345'), undefined);
    assert.equal(normalizeResidentId('000000000000000000'), undefined);
  });
  it('cleans passport numbers', () => {
    assert.equal(normalizePassport(' e1234 5678 '), 'E12345678');
    assert.equal(normalizePassport('12'), undefined);
  });
});

describe('phone, date, sex and address normalisation', () => {
  it('strips +86, spaces and dashes from mobiles and tells landlines apart', () => {
    assert.deepEqual(normalizePhone('+86 138-1234-5678'), { value: '13812345678', kind: 'mobile' });
    assert.deepEqual(normalizePhone('008613812345678'), { value: '13812345678', kind: 'mobile' });
    assert.deepEqual(normalizePhone('０５７２－５１２３４５６'), { value: '05725123456', kind: 'landline' });
    assert.equal(normalizePhone('00000000000'), undefined);
    assert.equal(normalizePhone('123'), undefined);
  });
  it('reads birth dates in the formats registration systems use and rejects impossible ones', () => {
    assert.equal(normalizeBirthDate('19800305'), '1980-03-05');
    assert.equal(normalizeBirthDate('1980/3/5'), '1980-03-05');
    assert.equal(normalizeBirthDate('1980年3月5日'), '1980-03-05');
    assert.equal(normalizeBirthDate('1980-03-05T00:00:00+08:00'), '1980-03-05');
    assert.equal(normalizeBirthDate('1980-02-30'), undefined);
  });
  it('maps GB/T 2261.1 codes, FHIR and HL7 genders; unknown is not a disagreement', () => {
    assert.equal(normalizeSex('1'), 'M');
    assert.equal(normalizeSex('2'), 'F');
    assert.equal(normalizeSex('female'), 'F');
    assert.equal(normalizeSex('男'), 'M');
    assert.equal(normalizeSex('9'), undefined);
    assert.equal(normalizeSex('0'), undefined);
    assert.equal(normalizeSex('unknown'), undefined);
  });
  it('reduces an address to its village and township', () => {
    assert.deepEqual(normalizeAddress({ codes: ['330523101203'] }), { village: '330523101203', township: '330523101' });
    assert.deepEqual(normalizeAddress({ text: '浙江省湖州市安吉县递铺镇古城村5组12号' }), { township: 't:递铺镇', village: 't:递铺镇/古城' });
    assert.deepEqual(normalizeAddress({ text: '安吉縣遞鋪鎮古城村委會' }), { township: 't:递铺镇', village: 't:递铺镇/古城' });
    assert.deepEqual(normalizeAddress({ text: '浙江省湖州市安吉县杭垓镇新上塘7组10号', codes: ['330523104228'] }), { township: 't:杭垓镇', village: 't:杭垓镇/新上塘' });
    assert.deepEqual(normalizeAddress({ text: '浙江省湖州市安吉县昌硕街道三友社区天目路142号' }), { township: 't:昌硕街道', village: 't:昌硕街道/三友' });
  });
});
