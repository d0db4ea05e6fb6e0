import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadOrCreateSigningKeys, TOKEN_AUDIENCE, TOKEN_ISSUER, verifyToken } from '../auth/index.ts';
import { openTestPlatform, type TestPlatform } from '../api/testing.ts';
import { openDb } from '../store/index.ts';

const BIN = new URL('../../bin/healthbrain.mjs', import.meta.url).pathname;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 120_000 });
}

const lastLine = (s: string) => s.trim().split('\n').at(-1)!;
const field = (out: string, name: string) => new RegExp(`^${name}\\s+(\\S+)$`, 'm').exec(out)?.[1];

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('CLI against a running server', () => {
  let p: TestPlatform;
  let server: string;
  before(async () => {
    p = await openTestPlatform();
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}`;
  });
  after(() => p.close());

  it('institution add prints a client id and secret that the token endpoint accepts', async () => {
    const name = 'CLI-HOSP-' + randomBytes(3).toString('hex');
    const { stdout } = await cli(['institution', 'add', name, '--type', 'hospital', '--data', p.dataDir, '--server', server]);
    const clientId = field(stdout, 'client_id');
    const secret = field(stdout, 'client_secret');
    assert.ok(clientId && secret, stdout);
    const res = await fetch(`${server}/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
    });
    assert.equal(res.status, 200);
  });

  it("token --institution prints that institution's system token alone on its last line; --role a person's", async () => {
    const inst = await p.addInstitution('县医院 ' + randomBytes(3).toString('hex'));
    const sys = lastLine((await cli(['token', '--institution', inst.code, '--data', p.dataDir, '--server', server])).stdout);
    assert.match(sys, JWT);
    const actor = await p.deps.auth.verify(sys);
    assert.deepEqual([actor.kind, actor.subject, actor.institutionId], ['system', inst.clientId, inst.id]);
    const person = lastLine((await cli(['token', '--role', 'clinician', '--institution', inst.id, '--user', 'dr-zhang', '--data', p.dataDir, '--server', server])).stdout);
    const who = await p.deps.auth.verify(person);
    assert.deepEqual([who.kind, who.role, who.subject, who.institutionId], ['user', 'clinician', 'dr-zhang', inst.id]);
  });

  it('says clearly when --data is not the data directory of that server', async () => {
    const other = mkdtempSync(join(tmpdir(), 'hb-other-'));
    try {
      await assert.rejects(cli(['institution', 'list', '--data', other, '--server', server]), /admin credential/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('CLI with no server (in-process on the data directory)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-cli-'));
  // On PostgreSQL the in-process CLI lives in a private schema, like every test suite.
  const schema = 't_' + randomBytes(6).toString('hex');
  const env: Record<string, string> = process.env.DATABASE_URL ? { HEALTHBRAIN_DB_SCHEMA: schema } : {};
  let server: string;
  before(async () => {
    server = `http://127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    if (process.env.DATABASE_URL) {
      const db = await openDb({ databaseUrl: process.env.DATABASE_URL, schema });
      await db.exec(`DROP SCHEMA ${schema} CASCADE`);
      await db.close();
    }
  });

  it('registers an institution, lists it and prints its token, each command opening the database itself', async () => {
    const add = await cli(['institution', 'add', '乡镇卫生院', '--code', 'XZWSY', '--type', 'township-health-centre', '--data', dataDir, '--server', server], env);
    assert.match(add.stderr, /no server answers/);
    assert.equal(field(add.stdout, 'code'), 'XZWSY');
    const list = await cli(['institution', 'list', '--data', dataDir, '--server', server], env);
    assert.match(list.stdout, /^XZWSY\ttownship-health-centre\t\S+\t乡镇卫生院$/m);
    const token = lastLine((await cli(['token', '--institution', '乡镇卫生院', '--data', dataDir, '--server', server], env)).stdout);
    const actor = await verifyToken(await loadOrCreateSigningKeys(dataDir), token, { issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, now: new Date() });
    assert.equal(actor.institutionId, field(add.stdout, 'institution_id'));
    assert.deepEqual(actor.scopes, ['system/*.read', 'system/*.write']);
  });

  it('answers --help on every command', async () => {
    for (const args of [[], ['serve'], ['demo'], ['institution'], ['institution', 'add'], ['institution', 'secret'], ['institution', 'list'], ['token']]) {
      const { stdout } = await cli([...args, '--help']);
      assert.match(stdout, /^Usage: healthbrain/m, args.join(' '));
      if (args.length && args[0] !== 'institution' || args.length > 1) assert.match(stdout, /--data <dir>[\s\S]*--server <url>/, args.join(' '));
    }
  });
});
