import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { openDb } from '../store/index.ts';

const BIN = new URL('../../bin/healthbrain.mjs', import.meta.url).pathname;

describe('healthbrain serve', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-serve-'));
  const schema = 't_' + randomBytes(6).toString('hex');
  const env = { ...process.env, LOG_LEVEL: 'warn', ...(process.env.DATABASE_URL ? { HEALTHBRAIN_DB_SCHEMA: schema } : {}) };
  after(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    if (process.env.DATABASE_URL) {
      const db = await openDb({ databaseUrl: process.env.DATABASE_URL, schema });
      await db.exec(`DROP SCHEMA ${schema} CASCADE`);
      await db.close();
    }
  });

  it('prints its URL, answers metadata, keeps other processes off its embedded database, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 120_000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /HealthBrain serving (http:\/\/\S+)\/fhir/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.stderr.on('data', (d) => (out += d));
      void exited.then(() => reject(new Error(`serve exited: ${out}`)));
    });
    try {
      const res = await fetch(`${url}/fhir/metadata`);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).resourceType, 'CapabilityStatement');
      if (!process.env.DATABASE_URL) {
        // A command pointed at the wrong port must not open the database the server holds.
        await assert.rejects(
          promisify(execFile)(process.execPath, [BIN, 'institution', 'list', '--data', dataDir, '--server', 'http://127.0.0.1:1'], { env }),
          /in use by process/,
        );
      }
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.equal(existsSync(join(dataDir, 'pglite.lock')), false);
  });
});
