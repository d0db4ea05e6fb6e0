import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import iconv from 'iconv-lite';
import { ingestFor } from '../api/ingest-runtime.ts';
import { openTestPlatform, type TestPlatform } from '../api/testing.ts';
import { loadConfig } from '../config/index.ts';
import { runReplay } from './replay.ts';

const frame = (s: string) => `\x0b${s}\x1c\r`;
const oru = (id: string) =>
  `MSH|^~\\&|RLIS|R-HOSP|HB|REGION|20240301||ORU^R01^ORU_R01|${id}|P|2.4\nPID|1||M${id}^^^R-HOSP^MR||钱^七\nOBR|1||L${id}|GLU\nOBX|1|NM|GLU^葡萄糖^L||5.1|mmol/L`;

/** A three-institution county in the layout of `healthbrain synth`: one HL7 (GBK, a duplicate), one CSV, one FHIR. */
function writeCounty(dir: string): void {
  const inst = (code: string, format: string, extra: object) => ({ code, name: `${code} 医院`, type: 'county-hospital', format, feedDir: `feeds/${code}`, encoding: 'utf-8', ...extra });
  const county = {
    version: 1,
    institutions: [
      inst('R-HOSP', 'hl7v2', { channel: 'mllp', encoding: 'gbk', hl7: { sendingApplication: 'RLIS', sendingFacility: 'R-HOSP', version: '2.4', mllpFramed: true } }),
      inst('R-CLINIC', 'csv', { channel: 'sftp-batch' }),
      inst('R-FHIR', 'fhir', { channel: 'fhir-rest' }),
    ],
  };
  writeFileSync(join(dir, 'county.json'), JSON.stringify(county));
  for (const i of county.institutions) mkdirSync(join(dir, i.feedDir), { recursive: true });
  writeFileSync(join(dir, 'feeds/R-HOSP/messages.hl7'), iconv.encode([oru('1'), oru('2'), oru('1')].map(frame).join(''), 'gbk'));
  writeFileSync(join(dir, 'feeds/R-CLINIC/patient.csv'), '机构代码,记录编号,患者编号,姓名,更新时间\nR-CLINIC,1,M1,孙八,2024-03-01\nR-CLINIC,2,M2,周九,2024-03-02\n');
  const bundle = (n: number) => JSON.stringify({
    resourceType: 'Bundle', type: 'transaction',
    entry: Array.from({ length: n }, (_, k) => ({ resource: { resourceType: 'Patient', identifier: [{ system: 'urn:r-fhir:mrn', value: `F${n}-${k}` }] }, request: { method: 'POST', url: 'Patient' } })),
  });
  writeFileSync(join(dir, 'feeds/R-FHIR/bundles.ndjson'), [bundle(2), bundle(3)].join('\n') + '\n');
}

describe(`replay of a county's feeds into a running server on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let dir: string;
  let server: string;
  before(async () => {
    p = await openTestPlatform();
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}`;
    await ingestFor(p.deps).startMllp(0, '127.0.0.1');
    dir = mkdtempSync(join(tmpdir(), 'hb-county-'));
    writeCounty(dir);
  });
  after(async () => {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers every institution and sends through its own channel; a second run only adds duplicates', async () => {
    const config = loadConfig({ data: p.dataDir, server }, {});
    const feeds = async () => {
      const res = await p.app.inject({ method: 'GET', url: '/admin/feeds', headers: { authorization: `Bearer ${await p.adminToken()}` } });
      return Object.fromEntries((res.json() as Array<{ institution_name: string; received: number; duplicates: number }>).map((f) => [f.institution_name, f]));
    };
    await runReplay(config, dir, { concurrency: 2 });
    let f = await feeds();
    assert.deepEqual([f['R-HOSP 医院'].received, f['R-HOSP 医院'].duplicates], [3, 1], 'HL7 over MLLP, the repeated message a duplicate');
    assert.deepEqual([f['R-CLINIC 医院'].received, f['R-CLINIC 医院'].duplicates], [2, 0], 'CSV rows');
    assert.deepEqual([f['R-FHIR 医院'].received, f['R-FHIR 医院'].duplicates], [5, 0], 'FHIR Bundle entries');
    const { rows } = await p.deps.db.query<{ channel: string; n: number }>('SELECT channel, count(*) AS n FROM landed_unit GROUP BY 1 ORDER BY 1');
    assert.deepEqual(rows, [{ channel: 'csv', n: 2 }, { channel: 'fhir', n: 2 }, { channel: 'hl7-mllp', n: 2 }]);

    await runReplay(config, dir, { concurrency: 2 });
    f = await feeds();
    assert.deepEqual([f['R-HOSP 医院'].received, f['R-HOSP 医院'].duplicates], [6, 4]);
    assert.deepEqual([f['R-CLINIC 医院'].received, f['R-CLINIC 医院'].duplicates], [4, 2]);
    assert.deepEqual([f['R-FHIR 医院'].received, f['R-FHIR 医院'].duplicates], [10, 5]);
    const again = await p.deps.db.query<{ n: number }>('SELECT count(*) AS n FROM landed_unit');
    assert.equal(again.rows[0].n, 6, 'nothing stored twice');
  });
});
