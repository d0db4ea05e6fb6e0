import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults to port 8080, ./data, the embedded engine and a 32 MB body limit', () => {
    const c = loadConfig({}, {});
    assert.equal(c.port, 8080);
    assert.equal(c.dataDir, resolve('./data'));
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.serverUrl, 'http://127.0.0.1:8080');
    assert.equal(c.bodyLimitBytes, 32 * 1024 * 1024);
    assert.equal(c.tokenTtlSeconds, 3600);
  });

  it('prefers command-line options over PORT / HEALTHBRAIN_DATA, and reads DATABASE_URL', () => {
    const env = { PORT: '9000', HEALTHBRAIN_DATA: '/srv/hb', DATABASE_URL: 'postgres://x/y', HEALTHBRAIN_BODY_LIMIT_MB: '1.5' };
    assert.equal(loadConfig({}, env).port, 9000);
    assert.equal(loadConfig({}, env).dataDir, '/srv/hb');
    const c = loadConfig({ port: '9100', data: '/tmp/d', server: 'http://h:1/' }, env);
    assert.deepEqual([c.port, c.dataDir, c.databaseUrl, c.serverUrl, c.bodyLimitBytes], [9100, '/tmp/d', 'postgres://x/y', 'http://h:1', 1572864]);
  });

  it('reads the ingest worker loops from --ingest-workers over HEALTHBRAIN_INGEST_WORKERS, and refuses what is not a count', () => {
    assert.equal(loadConfig({}, {}).ingestWorkers, undefined, 'the platform decides');
    assert.equal(loadConfig({}, { HEALTHBRAIN_INGEST_WORKERS: '2' }).ingestWorkers, 2);
    assert.equal(loadConfig({ ingestWorkers: '3' }, { HEALTHBRAIN_INGEST_WORKERS: '2' }).ingestWorkers, 3);
    for (const bad of ['0', '1.5', 'two', '65']) assert.throws(() => loadConfig({ ingestWorkers: bad }, {}), /ingest-workers/);
  });

  it('refuses a port that is not one, a negative limit and a schema that is not a plain identifier', () => {
    assert.throws(() => loadConfig({ port: '80a' }, {}), /port/);
    assert.throws(() => loadConfig({}, { HEALTHBRAIN_BODY_LIMIT_MB: '-1' }), /BODY_LIMIT/);
    assert.throws(() => loadConfig({}, { HEALTHBRAIN_DB_SCHEMA: 'x; DROP' }), /SCHEMA/);
  });
});
