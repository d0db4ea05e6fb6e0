import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isValidResidentId, parseResidentId, residentIdCheckChar, upgradeResidentId15 } from './gb11643.ts';

describe('GB 11643 resident ID', () => {
  it('computes the ISO 7064 MOD 11-2 check character of the standard example', () => {
    // The standard's worked example: 11010519491231002X.
    assert.equal(residentIdCheckChar('11010519491231002'), 'X');
    assert.ok(isValidResidentId('11010519491231002X'));
  });
  it('rejects one wrong digit and two transposed digits', () => {
    assert.equal(isValidResidentId('11010519491231003X'), false);
    assert.equal(isValidResidentId('11010519491321002X'), false);
  });
  it('accepts full-width digits and a lowercase x after normalisation', () => {
    assert.equal(parseResidentId('１１０１０５１９４９１２３１００２ｘ')?.id, '11010519491231002X');
    assert.equal(parseResidentId('11010519491231002x')?.sex, 'female');
  });
  it('upgrades an old 15-digit number to its 18-digit form', () => {
    assert.equal(upgradeResidentId15('110105491231002'), '11010519491231002X');
    assert.equal(parseResidentId('110105491231002')?.birthDate, '1949-12-31');
  });
  it('rejects impossible birth dates', () => {
    const first17 = '33052320230230001';
    assert.equal(isValidResidentId(first17 + residentIdCheckChar(first17)), false);
  });
});
