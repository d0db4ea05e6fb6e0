import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestFor } from '../api/ingest-runtime.ts';
import { openTestPlatform, type TestPlatform } from '../api/testing.ts';
import { loadConfig } from '../config/index.ts';
import type { CountyJson } from '../synth/county-types.ts';
import { generateCounty } from '../synth/index.ts';
import type { FeedRow } from './feeds-wait.ts';
import { runReplay } from './replay.ts';

/** `n` messages from `sender` (MSH-3/MSH-4), new control ids, ~170 bytes each: a multi-MB HL7 file. */
function bulkHl7(sender: { sendingApplication: string; sendingFacility: string }, tag: string, n: number): Buffer {
  const msg = (i: number) =>
    `MSH|^~\\&|${sender.sendingApplication}|${sender.sendingFacility}|HB|REGION|20250301080000||ORU^R01^ORU_R01|${tag}-${i}|P|2.5.1\r` +
    `PID|1||${tag}-P${i % 500}^^^${sender.sendingFacility}^MR||王^小明||19800101|M\rOBR|1||${tag}-L${i}|GLU\rOBX|1|NM|GLU^葡萄糖^L||${(i % 90) / 10 + 3}|mmol/L\r`;
  return Buffer.from(Array.from({ length: n }, (_, i) => msg(i)).join('\n'));
}

/** `n` rows of the patient core table for institution `org`: a multi-MB CSV file. */
function bulkCsv(org: string, n: number): string {
  const rows = Array.from({ length: n }, (_, i) => `${org},BULK-${i},BULK-M${i},患者${i},${1 + (i % 2)},1980-01-01,2025-03-01 08:00:00,浙江省湖州市安吉县递铺街道${i}号`);
  return 'org_code,record_id,patient_local_id,name,sex_code,birth_date,updated_at,address\n' + rows.join('\n') + '\n';
}

describe(`a county replayed by 4 concurrent senders with multi-MB HL7 and CSV files over HTTP on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let dir: string;
  let server: string;
  const added: Record<string, number> = {};
  before(async () => {
    dir = join(mkdtempSync(join(tmpdir(), 'hb-replay-')), 'county');
    await generateCounty({ persons: 60, seed: 7, outDir: dir });
    const county = JSON.parse(readFileSync(join(dir, 'county.json'), 'utf8')) as CountyJson;
    // The first senders replay takes on at once (4 of them): two HL7 institutions and a CSV one get a bulk file each.
    const [h1, h2] = county.institutions.filter((i) => i.format === 'hl7v2');
    const c1 = county.institutions.find((i) => i.format === 'csv')!;
    const files: Array<[typeof h1, string, Buffer | string, number]> = [
      [h1, 'zz-bulk.hl7', bulkHl7(h1.hl7!, 'BULK1', 6_000), 6_000],
      [h2, 'zz-bulk.hl7', bulkHl7(h2.hl7!, 'BULK2', 6_000), 6_000],
      [c1, 'patient-bulk.csv', bulkCsv(c1.code, 16_000), 16_000],
    ];
    for (const [inst, name, body, n] of files) {
      assert.ok(Buffer.byteLength(body) >= 1024 * 1024, `${name} of ${inst.code}: at least 1 MB`);
      writeFileSync(join(dir, inst.feedDir, name), body);
      added[inst.code] = n;
    }
    p = await openTestPlatform();
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}`;
    // The standardizer's services load on the worker's first batch; replay's 1.5 s probe of the server must not meet it.
    await ingestFor(p.deps).drain();
  });
  after(async () => {
    await p.close();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('completes every upload, counts exactly what was sent, and reconciles received = standardized + quarantined + duplicates + pending throughout', { timeout: 300_000 }, async () => {
    const auth = { authorization: `Bearer ${await p.adminToken()}` };
    const feeds = async () => (await p.app.inject({ method: 'GET', url: '/admin/feeds', headers: auth })).json() as FeedRow[];
    let samples = 0;
    let replaying = true;
    // While the senders send and the worker standardizes, every look at the counts must add up.
    const watch = (async () => {
      while (replaying) {
        for (const f of await feeds()) assert.equal(f.received, f.standardized + f.quarantined + f.duplicates + f.pending, `${f.institution_name} mid-replay`);
        samples++;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      if (/^\s+\S.*: \d{3} /.test(String(chunk))) errors.push(String(chunk)); // a failed upload, as replay reports it
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    const started = Date.now();
    try {
      await runReplay(loadConfig({ data: p.dataDir, server }, {}), dir, { concurrency: 4 });
    } finally {
      process.stderr.write = write;
      replaying = false;
      await watch;
    }
    const elapsed = Date.now() - started;
    assert.deepEqual(errors, []);
    assert.ok(samples > 3, `${samples} samples`);

    const codes = Object.fromEntries(
      ((await p.app.inject({ method: 'GET', url: '/admin/institutions', headers: auth })).json() as Array<{ id: string; code: string }>).map((i) => [i.id, i.code]),
    );
    const truth = JSON.parse(readFileSync(join(dir, 'truth/counts.json'), 'utf8')).institutions as Record<string, { records: number; duplicates: number }>;
    const all = await feeds();
    const got = Object.fromEntries(all.map((f) => [codes[f.institution_id], [f.received, f.duplicates]]));
    const want = Object.fromEntries(Object.entries(truth).map(([code, t]) => [code, [t.records + (added[code] ?? 0), t.duplicates]]));
    assert.deepEqual(got, want);
    for (const f of all) assert.equal(f.received, f.standardized + f.quarantined + f.duplicates + f.pending, codes[f.institution_id]);
    console.error(`replay with bulk files: ${(elapsed / 1000).toFixed(1)} s, ${all.reduce((s, f) => s + f.pending, 0)} records still pending at its end`);
  });
});
