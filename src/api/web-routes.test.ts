import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AppDeps } from './deps.ts';
import { createWebRoutes } from './web-routes.ts';

let dir: string;
let app: FastifyInstance;
let bare: FastifyInstance;

async function appFor(root: string): Promise<FastifyInstance> {
  const a = Fastify();
  a.get('/fhir/metadata', async () => ({ resourceType: 'CapabilityStatement' }));
  await a.register(async (scope) => createWebRoutes(root)(scope, {} as AppDeps));
  await a.ready();
  return a;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hb-web-'));
  await mkdir(join(dir, 'dist/assets'), { recursive: true });
  await writeFile(join(dir, 'dist/index.html'), '<!doctype html><div id="root"></div>');
  await writeFile(join(dir, 'dist/assets/index-abc123.js'), 'console.log(1)');
  await writeFile(join(dir, 'secret.txt'), 'outside');
  app = await appFor(join(dir, 'dist'));
  bare = await appFor(join(dir, 'missing'));
});
after(async () => {
  await app.close();
  await bare.close();
  await rm(dir, { recursive: true, force: true });
});

test('serves index.html at / and revalidates it on every load', async () => {
  const res = await app.inject({ url: '/' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /text\/html/);
  assert.equal(res.headers['cache-control'], 'no-cache');
  assert.match(res.body, /id="root"/);
});

test('caches hashed assets for a year as immutable', async () => {
  const res = await app.inject({ url: '/assets/index-abc123.js' });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(res.headers['content-type'] as string, /javascript/);
});

test('falls back to index.html for a client-side path but not for API paths or missing assets', async () => {
  assert.match((await app.inject({ url: '/record/p-1', headers: { accept: 'text/html,*/*' } })).body, /id="root"/);
  assert.equal((await app.inject({ url: '/record/p-1' })).statusCode, 404, 'a non-browser client gets a plain 404');
  assert.equal((await app.inject({ url: '/api/nope' })).statusCode, 404);
  assert.equal((await app.inject({ url: '/assets/gone-123.js' })).statusCode, 404);
  assert.equal((await app.inject({ url: '/fhir/metadata' })).json().resourceType, 'CapabilityStatement');
});

test('never serves a file outside the web root', async () => {
  const res = await app.inject({ url: '/..%2Fsecret.txt' });
  assert.doesNotMatch(res.body, /outside/);
});

test('explains how to build the console when web/dist is missing', async () => {
  const res = await bare.inject({ url: '/' });
  assert.equal(res.statusCode, 503);
  assert.match(res.body, /npm run build:web/);
});
