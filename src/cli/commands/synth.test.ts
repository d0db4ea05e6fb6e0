import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = new URL('../../../bin/healthbrain.mjs', import.meta.url).pathname;

test('healthbrain synth writes a county, prints a JSON summary on stdout and progress on stderr', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'synth-cli-'));
  try {
    const out = join(dir, 'county');
    const { stdout, stderr } = await run(process.execPath, [bin, 'synth', '--persons', '200', '--seed', '4', '--out', out]);
    const summary = JSON.parse(stdout) as { persons: number; records: number; seed: number };
    assert.equal(summary.persons, 200);
    assert.equal(summary.seed, 4);
    assert.ok(summary.records > 0);
    assert.match(stderr, /synth .*100% 200\/200 persons/);
    for (const f of ['county.json', 'truth/records.ndjson', 'truth/persons.ndjson', 'truth/counts.json', 'feeds/330523A001/messages.hl7']) assert.ok(existsSync(join(out, f)), f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('healthbrain synth refuses an unknown error-rate key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'synth-cli-'));
  try {
    const rates = join(dir, 'rates.json');
    (await import('node:fs')).writeFileSync(rates, JSON.stringify({ typo: 0.5 }));
    await assert.rejects(run(process.execPath, [bin, 'synth', '--persons', '10', '--out', join(dir, 'c'), '--error-rates', rates]), /unknown error rate "typo"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
