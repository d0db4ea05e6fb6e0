import type { Command } from 'commander';
import type { AuditVerification, Checkpoint } from '../../audit/index.ts';
import { configFrom, withGlobalOptions } from '../global-options.ts';

type Opts = Record<string, string | boolean | undefined>;

/** The verification as a person reads it: ok, or the first broken link and the problems after it. */
export function formatVerification(v: AuditVerification, show = 10): string {
  const lines: string[] = [];
  const cps = v.checkpoints;
  if (v.ok) lines.push(`audit chain ok: ${v.checked} link(s) verified under the audit key${v.legacyLinks ? ` (${v.legacyLinks} legacy SM3 link(s) sealed by a re-key checkpoint)` : ''}`);
  else {
    const b = v.brokenAt!;
    lines.push(`audit chain TAMPERED: ${v.problems!.length} problem(s), ${v.checked} link(s) walked`);
    lines.push(`first broken: seq ${b.seq}${b.eventId ? ` (AuditEvent/${b.eventId})` : ''}: ${b.problem}${b.detail ? ` — ${b.detail}` : ''}`);
    for (const p of v.problems!.slice(1, show)) lines.push(`  seq ${p.seq}${p.eventId ? ` (AuditEvent/${p.eventId})` : ''}: ${p.problem}${p.detail ? ` — ${p.detail}` : ''}`);
    if (v.problems!.length > show) lines.push(`  … ${v.problems!.length - show} more (--json lists up to 100)`);
  }
  lines.push(`head          ${v.head ? `seq ${v.head.seq} ${v.head.hash}` : '(empty chain)'}`);
  lines.push(`checkpoints   ${cps.table} in the database, ${cps.file === null ? 'no file' : `${cps.file} in the data directory's file`}`);
  if (cps.newest) lines.push(`newest        seq ${cps.newest.seq} (${cps.newest.count} links, ${cps.newest.kind}, ${cps.newest.at})`);
  lines.push(`signing key   ${v.keyFingerprint}`);
  return lines.join('\n');
}

/**
 * `healthbrain audit verify|checkpoint` (issue 10): the audit trail's tamper check and a checkpoint on demand,
 * through the operator API (/admin/audit/…) of a running server, or in-process when none answers. `verify` exits 0
 * when the chain holds, 1 when it does not (or when it could not be checked: the error is on stderr).
 */
export function register(program: Command): void {
  const audit = program.command('audit').description('the audit trail: verify the keyed chain and its signed checkpoints, force a checkpoint');

  withGlobalOptions(
    audit
      .command('verify')
      .description('check every link (HMAC-SM3), every checkpoint signature (SM2) and that the chain reaches the newest checkpoint; exit 1 if tampered')
      .option('--json', 'print the full report as JSON'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const v = await withPlatform(configFrom(opts as Record<string, string | undefined>), (c) => c.request<AuditVerification>('GET', '/admin/audit/verify'));
    console.log(opts.json ? JSON.stringify(v, null, 2) : formatVerification(v));
    if (!v.ok) process.exitCode = 1;
  });

  withGlobalOptions(audit.command('checkpoint').description("write a signed checkpoint of the chain's head now").option('--json', 'print JSON')).action(
    async (opts: Opts) => {
      const { withPlatform } = await import('../client.ts');
      const r = await withPlatform(configFrom(opts as Record<string, string | undefined>), (c) => c.request<{ checkpoint: Checkpoint | null }>('POST', '/admin/audit/checkpoint'));
      if (opts.json) return void console.log(JSON.stringify(r, null, 2));
      const cp = r.checkpoint;
      console.log(cp ? `checkpoint at seq ${cp.seq} (${cp.count} links) ${cp.head}, signed ${cp.at} by ${cp.keyFingerprint}` : 'the audit chain is empty: nothing to checkpoint');
    },
  );
}
