/**
 * `npm run bench -- api [--reads N]`: the HTTP layer's own costs, on the configured engine (PGlite in a scratch data
 * directory, or DATABASE_URL in a scratch schema): platform start-up (migrations included), the token endpoint
 * (scrypt-bound by design), and an authenticated FHIR read over a real socket next to /healthz over the same socket —
 * the difference is what authentication, the access hook and the router add to a read.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openPlatform } from '../src/api/index.ts';
import { readAdminCredential } from '../src/auth/index.ts';
import { loadConfig } from '../src/config/index.ts';
import { openDb } from '../src/store/index.ts';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const ms = (x: number) => x.toFixed(2) + ' ms';

export async function run(args: string[]): Promise<void> {
  const reads = Number(args[args.indexOf('--reads') + 1]) || 2000;
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-bench-api-'));
  const schema = 'bench_api_' + randomBytes(4).toString('hex');
  const config = loadConfig({ data: dataDir }, { ...process.env, HEALTHBRAIN_DB_SCHEMA: schema });
  try {
    let t = performance.now();
    const p = await openPlatform(config, { logger: pino({ level: 'silent' }) });
    console.log(`engine ${p.deps.db.engine}; cold start (new database, all migrations): ${ms(performance.now() - t)}`);
    await p.close();
    t = performance.now();
    const platform = await openPlatform(config, { logger: pino({ level: 'silent' }) });
    console.log(`warm start (existing database): ${ms(performance.now() - t)}`);
    await platform.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(platform.app.server.address() as { port: number }).port}`;
    try {
      const admin = readAdminCredential(dataDir)!;
      const form = (id: string, secret: string) => new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret });
      const adminTok = (await (await fetch(`${base}/auth/token`, { method: 'POST', body: form(admin.clientId, admin.clientSecret) })).json()).access_token;
      const inst = await (await fetch(`${base}/admin/institutions`, { method: 'POST', headers: { authorization: `Bearer ${adminTok}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'BENCH' }) })).json();
      const tokenTimes = await timed(50, async () => {
        const r = await fetch(`${base}/auth/token`, { method: 'POST', body: form(inst.client_id, inst.client_secret) });
        if (r.status !== 200) throw new Error(`token ${r.status}`);
        await r.text();
      });
      const token = (await (await fetch(`${base}/auth/token`, { method: 'POST', body: form(inst.client_id, inst.client_secret) })).json()).access_token;
      console.log(`POST /auth/token (scrypt N=2^14): p50 ${ms(pct(tokenTimes, 50))}, p99 ${ms(pct(tokenTimes, 99))}, ${(1000 / pct(tokenTimes, 50)).toFixed(0)}/s sequential`);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' };
      const pat = await (await fetch(`${base}/fhir/Patient`, { method: 'POST', headers, body: JSON.stringify({ resourceType: 'Patient', name: [{ text: '基准' }] }) })).json();
      await timed(200, async () => (await fetch(`${base}/healthz`)).text()); // warm-up
      const health = await timed(reads, async () => (await fetch(`${base}/healthz`)).text());
      const read = await timed(reads, async () => {
        const r = await fetch(`${base}/fhir/Patient/${pat.id}`, { headers });
        if (r.status !== 200) throw new Error(`read ${r.status}`);
        await r.text();
      });
      console.log(`GET /healthz (socket + fastify + SELECT 1): p50 ${ms(pct(health, 50))}, p99 ${ms(pct(health, 99))}`);
      console.log(`GET /fhir/Patient/id with bearer token: p50 ${ms(pct(read, 50))}, p99 ${ms(pct(read, 99))} (${reads} sequential reads)`);
      console.log(`auth + access hook + router + read over /healthz at p50: ${ms(pct(read, 50) - pct(health, 50))}`);
    } finally {
      await platform.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    if (config.databaseUrl) {
      const db = await openDb({ databaseUrl: config.databaseUrl, schema });
      await db.exec(`DROP SCHEMA ${schema} CASCADE`);
      await db.close();
    }
  }
}
