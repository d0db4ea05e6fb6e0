import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openTestDb } from '../../test/support/db.ts';
import { readAdminCredential } from '../auth/index.ts';
import { loadConfig, type Config } from '../config/index.ts';
import { openPlatform, type Platform, type PlatformOptions } from './platform.ts';

export interface TestPlatform extends Platform {
  /** The scratch data directory (keys, admin.json); removed on close. */
  dataDir: string;
  /** Bearer token of the platform admin (institutions, people's tokens). */
  adminToken(): Promise<string>;
  /** Registers an institution; returns its client credentials and a system token. */
  addInstitution(name?: string): Promise<{ id: string; code: string; clientId: string; clientSecret: string; token: string }>;
}

/**
 * A whole platform for a test suite: its own database (openTestDb: in-memory PGlite, or a private schema on
 * PostgreSQL), a scratch data directory for keys and the admin credential, a silent logger. Other modules' route
 * tests use it too: `const p = await openTestPlatform(); … p.app.inject(…); await p.close()`.
 */
export async function openTestPlatform(options: PlatformOptions & { env?: Record<string, string> } = {}): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-test-'));
  const config: Config = loadConfig({ data: dataDir }, { ...options.env, DATABASE_URL: '' });
  const db = options.db ?? (await openTestDb());
  const platform = await openPlatform(config, { logger: pino({ level: 'silent' }), ...options, db });
  const admin = readAdminCredential(dataDir)!;
  const inject = platform.app.inject.bind(platform.app);

  async function adminToken(): Promise<string> {
    const res = await inject({
      method: 'POST',
      url: '/auth/token',
      payload: { grant_type: 'client_credentials', client_id: admin.clientId, client_secret: admin.clientSecret },
    });
    if (res.statusCode !== 200) throw new Error(`admin token: ${res.statusCode} ${res.body}`);
    return res.json().access_token;
  }

  return {
    ...platform,
    dataDir,
    adminToken,
    async addInstitution(name = 'Test Hospital ' + Math.random().toString(36).slice(2, 8)) {
      const res = await inject({
        method: 'POST',
        url: '/admin/institutions',
        headers: { authorization: `Bearer ${await adminToken()}` },
        payload: { name },
      });
      if (res.statusCode !== 201) throw new Error(`add institution: ${res.statusCode} ${res.body}`);
      const j = res.json();
      const tok = await inject({
        method: 'POST',
        url: '/auth/token',
        payload: { grant_type: 'client_credentials', client_id: j.client_id, client_secret: j.client_secret },
      });
      return { id: j.id, code: j.code, clientId: j.client_id, clientSecret: j.client_secret, token: tok.json().access_token };
    },
    async close() {
      await platform.close();
      if (!options.db) await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
