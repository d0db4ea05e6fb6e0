import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ingestFor } from '../api/ingest-runtime.ts';
import { openTestPlatform, type TestPlatform } from '../api/testing.ts';
import type { FeedRow } from './feeds-wait.ts';

const BIN = new URL('../../bin/healthbrain.mjs', import.meta.url).pathname;
const run = promisify(execFile);

const row = (i: number) => `ORG1,R-${i},M-${i},张${i},1,1980-01-01,2024-03-01 08:00:00`;
const csv = (n: number) => 'org_code,record_id,patient_local_id,name,sex_code,birth_date,updated_at\n' + Array.from({ length: n }, (_, i) => row(i)).join('\n') + '\n';

describe(`feeds report what is still pending on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let p: TestPlatform;
  let server: string;
  let inst: Awaited<ReturnType<TestPlatform['addInstitution']>>;
  let admin: string;
  const feeds = async () =>
    ((await p.app.inject({ method: 'GET', url: `/admin/feeds?institution=${inst.code}`, headers: { authorization: `Bearer ${admin}` } })).json() as FeedRow[])[0];
  const cli = (args: string[]) => run(process.execPath, [BIN, ...args, '--data', p.dataDir, '--server', server], { timeout: 120_000 });

  before(async () => {
    p = await openTestPlatform();
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}`;
    inst = await p.addInstitution('待处理卫生院');
    admin = await p.adminToken();
    // The worker is held back so that what lands stays pending until the test lets it go.
    await ingestFor(p.deps).worker.stop();
    const res = await p.app.inject({
      method: 'POST', url: '/ingest/csv?table=patient', payload: csv(40) + row(0) + '\n', // the first row again: a duplicate
      headers: { authorization: `Bearer ${inst.token}`, 'content-type': 'text/csv' },
    });
    assert.equal(res.statusCode, 200, res.body);
  });
  after(() => p.close());

  it('counts landed units as pending so that received = standardized + quarantined + duplicates + pending', async () => {
    const f = await feeds();
    assert.deepEqual([f.received, f.duplicates, f.pending, f.standardized], [41, 1, 40, 0]);
    const o = (await p.app.inject({ method: 'GET', url: '/admin/overview', headers: { authorization: `Bearer ${admin}` } })).json() as {
      institutions: Array<{ institution: { id: string }; pending: number }>;
    };
    assert.equal(o.institutions.find((i) => i.institution.id === inst.id)?.pending, 40);
  });

  it('feeds --wait gives up with exit status 1 after its timeout while units are pending, and prints the counts', async () => {
    const err = await cli(['feeds', '--json', '--wait', '--timeout', '1', '--institution', inst.code]).then(() => undefined, (e: { code: number; stdout: string; stderr: string }) => e);
    assert.ok(err, 'feeds --wait must fail while the worker is stopped');
    assert.equal(err.code, 1);
    assert.match(err.stderr, /40 record\(s\) still pending after 1 s/);
    const rows = JSON.parse(err.stdout) as FeedRow[];
    assert.equal(rows[0].pending, 40);
  });

  it('feeds --wait returns once the worker has standardized everything, with the counts reconciled', async () => {
    ingestFor(p.deps).worker.start();
    const { stdout } = await cli(['feeds', '--json', '--wait', '--timeout', '120', '--institution', inst.code]);
    const [f] = JSON.parse(stdout) as FeedRow[];
    assert.equal(f.pending, 0);
    assert.equal(f.received, 41);
    assert.equal(f.received, f.standardized + f.quarantined + f.duplicates);
  });
});
