import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataDirLockedError, lockDataDir } from './data-lock.ts';

describe('data directory lock of the embedded database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-lock-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second holder while the first lives, and frees the directory on release', () => {
    const release = lockDataDir(dir);
    assert.throws(() => lockDataDir(dir), (e: unknown) => e instanceof DataDirLockedError && e.pid === process.pid);
    release();
    assert.equal(existsSync(join(dir, 'pglite.lock')), false);
    lockDataDir(dir)();
  });

  it('takes over a lock left by a process that no longer exists', () => {
    writeFileSync(join(dir, 'pglite.lock'), '2147483646');
    const release = lockDataDir(dir);
    release();
  });
});
