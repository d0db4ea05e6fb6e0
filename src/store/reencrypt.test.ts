import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FieldCrypto, keyFilePath, loadOrCreateKeyRing } from '../crypto/index.ts';
import { FhirRepository } from '../fhir/index.ts';
import { landUnits } from '../ingest/index.ts';
import { openTestDb } from '../../test/support/db.ts';
import type { Db } from './db.ts';
import { keyStatus, rotateFieldKeys } from './reencrypt.ts';

const RID = '330523198001010011';

describe(`field-key rotation re-encrypts every ciphertext at rest (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let dir: string;
  let db: Db;
  let repo: FhirRepository;
  let patientId: string;
  let unitId: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hb-keys-'));
    db = await openTestDb({ keys: loadOrCreateKeyRing(dir) });
    repo = new FhirRepository(db);
    await db.exec('CREATE TABLE test_cipher_cols (k int PRIMARY KEY, t text, a text[])');
    for (let i = 0; i < 7; i++) {
      const p = await repo.create({}, { resourceType: 'Patient', identifier: [{ system: 'urn:oid:2.16.156.10011.1.3', value: RID.slice(0, 14) + String(1000 + i) }], telecom: [{ system: 'phone', value: `1390572${1000 + i}` }] });
      patientId = p.resource.id!;
      await db.query('INSERT INTO test_cipher_cols VALUES ($1, $2, $3)', [i, db.crypto.encrypt(`t${i}`), [db.crypto.encrypt(`a${i}`), 'plain', db.crypto.encrypt(`b${i}`)]]);
    }
    [{ id: unitId }] = await landUnits(db, [{ institutionId: 'keys-inst', channel: 'hl7-mllp', contentType: 'x-application/hl7-v2+er7', encoding: 'utf-8', content: Buffer.from(`PID|||${RID}`) }]);
  });
  after(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to rotate a key file that is not the database\'s ring', async () => {
    const other = mkdtempSync(join(tmpdir(), 'hb-keys-other-'));
    await assert.rejects(rotateFieldKeys(db, other), /not the one in/);
    assert.deepEqual([...loadOrCreateKeyRing(other).field.keys()], [1], 'nothing rotated there');
    rmSync(other, { recursive: true, force: true });
  });

  it('counts ciphertexts per version and column', async () => {
    const s = await keyStatus(db, dir);
    assert.deepEqual([s.current, s.versions], [1, [1]]);
    const col = (t: string, c: string) => s.columns.find((x) => x.table === t && x.column === c)?.versions;
    assert.deepEqual(col('fhir_resource', 'content'), { 1: 14 });
    assert.deepEqual(col('fhir_resource_history', 'content'), { 1: 14 });
    assert.deepEqual(col('landed_unit', 'content'), { 1: 1 });
    assert.deepEqual(col('test_cipher_cols', 'a'), { 1: 14 });
  });

  it('resumes an interrupted rotation and ends with every value under the new version, the old one retired', async () => {
    // Interrupted after its first batch of 2 rows: what it rewrote is under v2, the rest still under v1.
    await assert.rejects(rotateFieldKeys(db, dir, { batch: 2, onBatch: () => { throw new Error('killed'); } }), /killed/);
    assert.equal(db.crypto.currentVersion, 2);
    const mid = await keyStatus(db, dir);
    assert.deepEqual(mid.versions, [1, 2]);
    const r = await rotateFieldKeys(db, dir, { resume: true, batch: 3 });
    assert.deepEqual([r.current, r.retired], [2, [1]]);
    assert.ok(r.rewritten.some((x) => x.table === 'landed_unit' && x.rows === 1));
    const s = await keyStatus(db, dir);
    assert.deepEqual(s.versions, [2]);
    for (const c of s.columns) assert.deepEqual(Object.keys(c.versions), ['2'], `${c.table}.${c.column}`);
    assert.equal(JSON.parse(readFileSync(keyFilePath(dir), 'utf8')).field.length, 1);
  });

  it('still opens everything with the rotated ring alone', async () => {
    const fresh = new FieldCrypto(loadOrCreateKeyRing(dir));
    assert.throws(() => fresh.decrypt(new FieldCrypto(loadOrCreateKeyRing(mkdtempSync(join(tmpdir(), 'hb-other-')))).encrypt('x')));
    db.crypto = fresh;
    const p = await repo.read('Patient', patientId);
    assert.equal((p as { telecom: Array<{ value: string }> }).telecom[0].value, '13905721006');
    const { rows } = await db.query<{ content: Uint8Array }>('SELECT content FROM landed_unit WHERE id = $1', [unitId]);
    assert.equal(fresh.unseal(rows[0].content).toString(), `PID|||${RID}`);
    const t = await db.query<{ t: string; a: string[] }>('SELECT t, a FROM test_cipher_cols WHERE k = 6');
    assert.deepEqual([fresh.decrypt(t.rows[0].t), fresh.decrypt(t.rows[0].a[0]), t.rows[0].a[1]], ['t6', 'a6', 'plain']);
    const found = await repo.search('Patient', [['identifier', RID.slice(0, 14) + '1006']], { baseUrl: 'x' });
    assert.equal(found.entry?.length, 1, 'blind indexes are under the index key: unchanged by the rotation');
  });
});
