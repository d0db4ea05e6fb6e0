import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FieldCrypto, generateKeyRing, isCiphertext, keyFilePath, loadOrCreateKeyRing, rotateFieldKey, verifySm2 } from './index.ts';

describe('field encryption (SM4 + HMAC-SM3)', () => {
  const crypto = new FieldCrypto(generateKeyRing());

  it('round-trips a value and never shows it in the ciphertext', () => {
    const rid = '330523199001011234';
    const ct = crypto.encrypt(rid);
    assert.ok(isCiphertext(ct));
    assert.ok(!ct.includes(rid) && !ct.includes('1990'));
    assert.equal(crypto.decrypt(ct), rid);
    assert.notEqual(crypto.encrypt(rid), ct, 'a fresh IV each time');
  });

  it('refuses a ciphertext with a changed byte and one made under another key ring', () => {
    const ct = crypto.encrypt('13800001111');
    const cut = ct.lastIndexOf(':') + 1;
    const raw = Buffer.from(ct.slice(cut), 'base64url');
    raw[18] ^= 1; // a ciphertext byte
    assert.throws(() => crypto.decrypt(ct.slice(0, cut) + raw.toString('base64url')), /integrity/);
    assert.throws(() => new FieldCrypto(generateKeyRing()).decrypt(ct), /integrity/);
  });

  it('passes plain values through open() and reads ciphertexts', () => {
    assert.equal(crypto.open('plain'), 'plain');
    assert.equal(crypto.open(crypto.encrypt('x')), 'x');
  });

  it('gives equal blind indexes for equal values of one kind only', () => {
    assert.equal(crypto.blindIndex('phone', '13800001111'), crypto.blindIndex('phone', '13800001111'));
    assert.notEqual(crypto.blindIndex('phone', '13800001111'), crypto.blindIndex('resident-id', '13800001111'));
    assert.notEqual(crypto.blindIndex('phone', '13800001111'), new FieldCrypto(generateKeyRing()).blindIndex('phone', '13800001111'));
    assert.match(crypto.blindIndex('phone', '1'), /^bi:[0-9a-f]{32}$/);
  });

  it('seals bytes, unseals them, detects tampering and passes unsealed legacy bytes through', () => {
    const msg = Buffer.from('MSH|^~\\&|HIS|330523A001|||20250101||ADT^A01|1|P|2.5\rPID|||M1||张三||19900101|M|||||13800001111\r');
    const sealed = crypto.seal(msg);
    assert.ok(!sealed.includes(Buffer.from('13800001111')));
    assert.deepEqual(crypto.unseal(sealed), msg);
    const bad = Buffer.from(sealed);
    bad[30] ^= 1;
    assert.throws(() => crypto.unseal(bad), /integrity/);
    assert.deepEqual(crypto.unseal(msg), msg);
  });

  it('signs with SM2 and verifies with the public key alone', () => {
    const sig = crypto.sign('checkpoint 42 abc');
    assert.ok(verifySm2('checkpoint 42 abc', sig, crypto.publicKey));
    assert.ok(!verifySm2('checkpoint 43 abc', sig, crypto.publicKey));
  });
});

describe('the key ring in the data directory', () => {
  it('is created once with mode 0600 and read back the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-keys-'));
    try {
      const a = new FieldCrypto(loadOrCreateKeyRing(dir, {}));
      const ct = a.encrypt('330523199001011234');
      assert.equal(statSync(keyFilePath(dir)).mode & 0o777, 0o600);
      const b = new FieldCrypto(loadOrCreateKeyRing(dir, {}));
      assert.equal(b.decrypt(ct), '330523199001011234');
      assert.equal(b.blindIndex('phone', '1'), a.blindIndex('phone', '1'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rotates: new values use the new version, old ciphertexts still open', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-keys-'));
    try {
      const old = new FieldCrypto(loadOrCreateKeyRing(dir, {})).encrypt('a');
      const rotated = new FieldCrypto(rotateFieldKey(dir, {}));
      assert.equal(rotated.currentVersion, 2);
      assert.equal(FieldCrypto.versionOf(rotated.encrypt('b')), 2);
      assert.equal(rotated.decrypt(old), 'a');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is stored wrapped under a KMS master key, and does not open without it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-keys-'));
    const env = { HEALTHBRAIN_MASTER_KEY: '00112233445566778899aabbccddeeff' };
    try {
      const ct = new FieldCrypto(loadOrCreateKeyRing(dir, env)).encrypt('secret');
      assert.ok(!readFileSync(keyFilePath(dir), 'utf8').includes('"index"'));
      assert.equal(new FieldCrypto(loadOrCreateKeyRing(dir, env)).decrypt(ct), 'secret');
      assert.throws(() => loadOrCreateKeyRing(dir, {}), /master key/);
      assert.throws(() => loadOrCreateKeyRing(dir, { HEALTHBRAIN_MASTER_KEY: 'ffffffffffffffffffffffffffffffff' }), /does not open/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
