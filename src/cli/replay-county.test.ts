import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestFor } from '../api/ingest-runtime.ts';
import { openTestPlatform, type TestPlatform } from '../api/testing.ts';
import { loadConfig } from '../config/index.ts';
import { generateCounty } from '../synth/index.ts';
import { runReplay } from './replay.ts';

interface Feed { institution_id: string; received: number; standardized: number; quarantined: number; duplicates: number }

describe(`a synthetic county replayed through its institutions' own channels on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let dir: string;
  let server: string;
  before(async () => {
    dir = join(mkdtempSync(join(tmpdir(), 'hb-synth-')), 'county');
    await generateCounty({ persons: 60, seed: 7, outDir: dir });
    p = await openTestPlatform();
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}`;
    await ingestFor(p.deps).startMllp(0, '127.0.0.1');
  });
  after(async () => {
    await p.close();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('receives exactly the records and recognises exactly the duplicates of the ground truth, and the counts reconcile', { timeout: 600_000 }, async () => {
    await runReplay(loadConfig({ data: p.dataDir, server }, {}), dir, { concurrency: 4 });
    const auth = { authorization: `Bearer ${await p.adminToken()}` };
    const codes = Object.fromEntries(
      ((await p.app.inject({ method: 'GET', url: '/admin/institutions', headers: auth })).json() as Array<{ id: string; code: string }>).map((i) => [i.id, i.code]),
    );
    const truth = JSON.parse(readFileSync(join(dir, 'truth/counts.json'), 'utf8')).institutions as Record<string, { records: number; duplicates: number }>;
    const feeds = async () => (await p.app.inject({ method: 'GET', url: '/admin/feeds', headers: auth })).json() as Feed[];
    const got = Object.fromEntries((await feeds()).map((f) => [codes[f.institution_id], [f.received, f.duplicates]]));
    const want = Object.fromEntries(Object.entries(truth).map(([code, t]) => [code, [t.records, t.duplicates]]));
    assert.deepEqual(got, want);
    // Every malformed core-table row the generator injected is quarantined as it lands, with a csv-* reason.
    const county = JSON.parse(readFileSync(join(dir, 'county.json'), 'utf8')) as { institutions: Array<{ code: string; format: string }> };
    const { rows } = await p.deps.db.query<{ institution_id: string; n: number }>(
      `SELECT institution_id, count(*) AS n FROM landed_unit WHERE channel = 'csv' AND reasons->0->>'code' LIKE 'csv-%' GROUP BY 1`,
    );
    const malformed = Object.fromEntries(rows.map((r) => [codes[r.institution_id], r.n]));
    for (const i of county.institutions.filter((x) => x.format === 'csv')) {
      assert.equal(malformed[i.code] ?? 0, (truth[i.code] as { malformed?: number }).malformed ?? 0, `malformed rows of ${i.code}`);
    }
    // Once the worker has standardized everything: received = standardized + quarantined + duplicates, everywhere.
    let all = await feeds();
    for (let i = 0; i < 1200 && all.some((f) => f.received !== f.standardized + f.quarantined + f.duplicates); i++) {
      await new Promise((r) => setTimeout(r, 250));
      all = await feeds();
    }
    for (const f of all) assert.equal(f.received, f.standardized + f.quarantined + f.duplicates, codes[f.institution_id]);
  });
});
