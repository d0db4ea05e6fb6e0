import type { Command } from 'commander';
import type { KeyStatus, RotationResult } from '../../store/index.ts';
import { configFrom, withGlobalOptions } from '../global-options.ts';

type Opts = Record<string, string | boolean | undefined>;

export function formatStatus(s: KeyStatus): string {
  const lines = [`field keys: versions ${s.versions.join(', ')}; current ${s.current}`];
  if (!s.columns.length) lines.push('no ciphertext stored yet');
  for (const c of s.columns) lines.push(`  ${`${c.table}.${c.column}`.padEnd(40)} ${Object.entries(c.versions).map(([v, n]) => `v${v}: ${n}`).join('  ')}`);
  lines.push('blind-index key: not rotatable yet (every search index would have to be recomputed)');
  return lines.join('\n');
}

export function formatRotation(r: RotationResult): string {
  const total = r.rewritten.reduce((n, x) => n + x.rows, 0);
  const lines = [`field key version ${r.current} is current; ${total} row(s) re-encrypted; retired: ${r.retired.length ? r.retired.map((v) => `v${v}`).join(', ') : 'none'}`];
  for (const x of r.rewritten) lines.push(`  ${`${x.table}.${x.column}`.padEnd(40)} ${x.rows}`);
  return lines.join('\n');
}

/**
 * `healthbrain keys status|rotate` (issue 10, 密评 密钥更新): the field-key versions and the ciphertexts under each;
 * a new field key with every older ciphertext and sealed landing unit re-encrypted under it, in batches (resumable:
 * `--resume` finishes an interrupted run without adding a version), then the old versions retired. Through the
 * running server's admin API, or in-process when none answers — the same code holds the database either way.
 */
export function register(program: Command): void {
  const keys = program.command('keys').description('encryption keys at rest: status, rotation of the field key (SM4)');

  withGlobalOptions(keys.command('status').description('key versions and ciphertexts per version, per column').option('--json', 'print JSON')).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const s = await withPlatform(configFrom(opts as Record<string, string | undefined>), (c) => c.request<KeyStatus>('GET', '/admin/keys'));
    console.log(opts.json ? JSON.stringify(s, null, 2) : formatStatus(s));
  });

  withGlobalOptions(
    keys
      .command('rotate')
      .description('add a field-key version, re-encrypt every older ciphertext under it, retire the old versions')
      .option('--resume', 'finish an interrupted rotation under the current version (no new version)')
      .option('--batch <n>', 'rows per transaction (default 500)')
      .option('--json', 'print JSON'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const body = { resume: opts.resume === true, ...(opts.batch ? { batch: Number(opts.batch) } : {}) };
    const r = await withPlatform(configFrom(opts as Record<string, string | undefined>), (c) => c.request<RotationResult>('POST', '/admin/keys/rotate', { body }));
    console.log(opts.json ? JSON.stringify(r, null, 2) : formatRotation(r));
  });
}
