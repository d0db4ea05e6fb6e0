import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openDb } from '../store/index.ts';
import { SHUTDOWN } from './server-runtime.ts';

const BIN = new URL('../../bin/healthbrain.mjs', import.meta.url).pathname;
const ROWS = 4000;
const csv = 'org_code,record_id,patient_local_id,name,sex_code,birth_date,updated_at\n' +
  Array.from({ length: ROWS }, (_, i) => `ORG1,R-${i},M-${i},张${i},1,1980-01-01,2024-03-01 08:00:00`).join('\n') + '\n';
const hl7 = (id: string) => `MSH|^~\\&|LIS|TOWN-1|HB|REGION|20240301||ORU^R01^ORU_R01|${id}|P|2.5.1\rPID|1||M-${id}^^^TOWN-1^MR||王^小明\rOBX|1|NM|GLU^葡萄糖^L||5.6|mmol/L\r`;

describe(`healthbrain serve on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'} shuts down on SIGTERM during a backlog`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-shutdown-'));
  const schema = 't_' + randomBytes(6).toString('hex');
  const env = { ...process.env, LOG_LEVEL: 'warn', ...(process.env.DATABASE_URL ? { HEALTHBRAIN_DB_SCHEMA: schema } : {}) };
  const reopen = () => openDb(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL, schema } : { dataDir });
  after(async () => {
    if (process.env.DATABASE_URL) {
      const db = await reopen();
      await db.exec(`DROP SCHEMA ${schema} CASCADE`);
      await db.close();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exits 0 within the bound, a stalled upload and the worker batch notwithstanding, and the data directory re-opens with nothing lost', { timeout: 300_000 }, async (t) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 120_000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /HealthBrain serving (http:\/\/\S+)\/fhir/.exec(out);
        if (m) clearTimeout(timer), resolve(m[1]);
      });
      void exited.then(() => reject(new Error(`serve exited: ${out}`)));
    });
    let stalled: Promise<unknown> | undefined;
    try {
      const admin = JSON.parse(readFileSync(join(dataDir, 'admin.json'), 'utf8')) as { client_id: string; client_secret: string };
      const call = async (method: string, path: string, token: string, body?: unknown) => {
        const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
        assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
        return res.json();
      };
      const tokenRes = await fetch(`${url}/auth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: admin.client_id, client_secret: admin.client_secret }) });
      const adminToken = (await tokenRes.json()).access_token as string;
      const inst = await call('POST', '/admin/institutions', adminToken, { name: '停机测试医院', code: 'STOP-1', type: 'hospital' });
      const token = (await call('POST', `/admin/institutions/${inst.code}/token`, adminToken, {})).access_token as string;
      // A backlog: the CSV lands at once, its standardization takes the worker a while.
      const up = await fetch(`${url}/ingest/csv?table=patient`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: csv });
      assert.equal(up.status, 200, await up.clone().text());
      const [feed] = await call('GET', '/admin/feeds?institution=STOP-1', adminToken) as Array<{ received: number; pending: number }>;
      assert.equal(feed.received, ROWS);
      assert.ok(feed.pending > 0, 'the worker must still have a backlog when the signal comes');
      // A sender that stops sending in the middle of its body.
      stalled = fetch(`${url}/ingest/hl7`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'x-application/hl7-v2+er7' }, duplex: 'half',
        body: new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(Buffer.from(hl7('S-1') + hl7('S-2'))) }),
      } as RequestInit).catch((err: unknown) => err);
      await new Promise((r) => setTimeout(r, 300));
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    const ms = Date.now() - t0;
    assert.equal(code, 0, out);
    assert.ok(ms < SHUTDOWN.timeoutMs, `exited after ${ms} ms`);
    t.diagnostic(`exited ${ms} ms after SIGTERM`);
    await stalled;
    if (!process.env.DATABASE_URL) assert.equal(existsSync(join(dataDir, 'pglite.lock')), false);

    const db = await reopen();
    try {
      const { rows } = await db.query<{ status: string; n: number }>(
        `SELECT u.status, count(*) AS n FROM landed_unit u JOIN institution i ON i.id = u.institution_id WHERE i.code = 'STOP-1' AND u.channel = 'csv' GROUP BY 1`,
      );
      const by = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
      assert.equal(Object.values(by).reduce((s, n) => s + n, 0), ROWS, JSON.stringify(by));
      for (const s of Object.keys(by)) assert.ok(['landed', 'standardized', 'quarantined'].includes(s), s);
      const { rows: f } = await db.query<{ received: number; standardized: number; quarantined: number; duplicates: number; pending: number }>(
        `SELECT sum(received) AS received, sum(standardized) AS standardized, sum(quarantined) AS quarantined, sum(duplicates) AS duplicates, sum(pending) AS pending
           FROM feed_counts c JOIN institution i ON i.id = c.institution_id WHERE i.code = 'STOP-1'`,
      );
      const c = f[0];
      assert.equal(Number(c.received), Number(c.standardized) + Number(c.quarantined) + Number(c.duplicates) + Number(c.pending));
      assert.ok(Number(c.received) >= ROWS);
    } finally {
      await db.close();
    }
  });
});
