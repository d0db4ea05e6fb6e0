import type { Command } from 'commander';
import type { FeedRow } from '../feeds-wait.ts';
import { configFrom, withGlobalOptions } from '../global-options.ts';

type Opts = Record<string, string | boolean | undefined>;

/**
 * Ingestion commands (issue 4): `ingest` (core-table CSV files), `feeds`, `quarantine`, `reprocess`,
 * `hl7-sender add|list|refusals` and `replay` (a synthetic county's feeds through each institution's own channel).
 * All talk to the operator API of the server at --server, or run the app in-process when none answers.
 */
export function register(program: Command): void {
  withGlobalOptions(
    program
      .command('ingest')
      .description('upload core-table CSV files (a file or every *.csv under a directory) as an institution, streamed')
      .argument('<path>', 'a CSV file or a directory of them')
      .requiredOption('--institution <ref>', 'institution id, code or name')
      .option('--table <key>', 'core table (default: from each file name, e.g. lab_result-2024.csv)')
      .option('--json', 'print the summary as JSON'),
  ).action(async (path: string, opts: Opts) => {
    const { runIngest } = await import('../ingest-files.ts');
    await runIngest(configFrom(opts as Record<string, string>), path, opts.institution as string, opts.table as string | undefined, !!opts.json);
  });

  withGlobalOptions(
    program
      .command('feeds')
      .description('per institution: received, standardized, quarantined, duplicates, pending, last received time')
      .option('--institution <ref>', 'only this institution')
      .option('--daily', 'one line per institution and UTC day (received = standardized + quarantined + duplicates + pending)')
      .option('--day <YYYY-MM-DD>', 'with --daily: only this day')
      .option('--wait', 'first wait until nothing is pending (everything received is standardized, quarantined or a duplicate)')
      .option('--timeout <seconds>', 'with --wait: give up after this long (exit status 1)', '600')
      .option('--json', 'print JSON (an array of objects)'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    if (opts.daily || opts.day) {
      const q = new URLSearchParams();
      for (const k of ['institution', 'day'] as const) if (opts[k]) q.set(k, String(opts[k]));
      const days = await withPlatform(configFrom(opts as Record<string, string>), (c) => c.request<DailyRow[]>('GET', `/admin/feeds/daily?${q}`));
      if (opts.json) return void console.log(JSON.stringify(days, null, 2));
      console.log(['institution', 'day', 'received', 'standardized', 'quarantined', 'duplicates', 'pending'].join('\t'));
      for (const d of days) console.log([d.institution_id, d.day, d.received, d.standardized, d.quarantined, d.duplicates, d.pending].join('\t'));
      return;
    }
    const q = opts.institution ? `?institution=${encodeURIComponent(String(opts.institution))}` : '';
    const { waitUntilSettled, FeedsWaitTimeout } = await import('../feeds-wait.ts');
    const timeout = Number(opts.timeout);
    if (opts.wait && !(timeout >= 0)) throw new Error('--timeout must be a number of seconds');
    let rows: FeedRow[];
    try {
      rows = await withPlatform(configFrom(opts as Record<string, string>), (c) => {
        const get = () => c.request<FeedRow[]>('GET', `/admin/feeds${q}`);
        return opts.wait ? waitUntilSettled(get, { timeoutMs: timeout * 1000 }) : get();
      });
    } catch (err) {
      if (!(err instanceof FeedsWaitTimeout)) throw err;
      console.error(`healthbrain: ${err.message}`);
      process.exitCode = 1;
      rows = err.rows;
    }
    if (opts.json) return void console.log(JSON.stringify(rows, null, 2));
    console.log(['institution', 'received', 'standardized', 'quarantined', 'duplicates', 'pending', 'last received'].join('\t'));
    for (const r of rows) {
      console.log([r.institution_name, r.received, r.standardized, r.quarantined, r.duplicates, r.pending, r.last_received_at ?? '-'].join('\t'));
    }
  });

  withGlobalOptions(
    program
      .command('quarantine')
      .description('quarantined units by institution and reason')
      .option('--institution <ref>', 'only this institution')
      .option('--reason <code>', 'only this reason code')
      .option('--limit <n>', 'units to list', '20')
      .option('--json', 'print JSON'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const q = new URLSearchParams();
    for (const k of ['institution', 'reason', 'limit'] as const) if (opts[k]) q.set(k, String(opts[k]));
    const r = await withPlatform(configFrom(opts as Record<string, string>), (c) => c.request<QuarantineJson>('GET', `/admin/quarantine?${q}`));
    if (opts.json) return void console.log(JSON.stringify(r, null, 2));
    for (const s of r.summary) console.log(`${s.institution_id}\t${s.reason}\t${s.units}`);
    for (const u of r.units) console.log(`#${u.id}\t${u.institution_id}\t${u.channel}\t${u.reasons.map((x) => `${x.code}${x.detail ? ': ' + x.detail : ''}`).join('; ')}`);
    if (!r.summary.length) console.error('(nothing quarantined)');
  });

  withGlobalOptions(
    program
      .command('reprocess')
      .description('put quarantined units back on the work queue (after a mapping fix)')
      .option('--institution <ref>', 'only this institution')
      .option('--reason <code>', 'only units quarantined for this reason'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const r = await withPlatform(configFrom(opts as Record<string, string>), (c) =>
      c.request<{ requeued: number }>('POST', '/admin/reprocess', { body: { institution: opts.institution, reason: opts.reason } }),
    );
    console.log(`requeued ${r.requeued} unit(s)`);
  });

  const sender = program.command('hl7-sender').description('HL7 v2 senders: MSH-3 application + MSH-4 facility → institution, bound to how they connect');
  withGlobalOptions(
    sender
      .command('add')
      .description('register an HL7 sender for an institution; over MLLP it must connect from an --allow address or with its --cert-fingerprint')
      .requiredOption('--institution <ref>', 'institution id, code or name')
      .requiredOption('--msh3 <app>', 'MSH-3 sending application')
      .requiredOption('--msh4 <facility>', 'MSH-4 sending facility')
      .option('--allow <cidr...>', 'source addresses or CIDR blocks it may send from over MLLP (repeatable; none: HTTP or certificate only)')
      .option('--address <ip...>', 'same as --allow (older spelling)')
      .option('--secret [value]', 'shared secret the sender puts in MSH-8 (Security); without a value one is generated and printed once')
      .option('--cert-fingerprint <sha256>', 'SHA-256 fingerprint of its TLS client certificate (serve --mllp-tls-*)'),
  ).action(async (opts: Opts & { allow?: string[]; address?: string[] }) => {
    const { withPlatform } = await import('../client.ts');
    const secret = opts.secret === true ? { generate_secret: true } : typeof opts.secret === 'string' ? { secret: opts.secret } : {};
    const body = {
      institution: opts.institution, msh3: opts.msh3, msh4: opts.msh4, addresses: [...(opts.allow ?? []), ...(opts.address ?? [])],
      cert_fingerprint: opts.certFingerprint, ...secret,
    };
    const r = await withPlatform(configFrom(opts as Record<string, string>), (c) => c.request<SenderJson & { secret?: string }>('POST', '/admin/hl7-senders', { body }));
    console.log(`${r.msh3}\t${r.msh4}\t→ ${r.institution_id}\t${binding(r)}`);
    if (r.secret) console.log(`MSH-8 secret (shown once): ${r.secret}`);
  });
  withGlobalOptions(sender.command('list').description('list registered HL7 senders').option('--json', 'print JSON')).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const rows = await withPlatform(configFrom(opts as Record<string, string>), (c) => c.request<SenderJson[]>('GET', '/admin/hl7-senders'));
    if (opts.json) return void console.log(JSON.stringify(rows, null, 2));
    for (const r of rows) console.log(`${r.msh3}\t${r.msh4}\t${r.institution_id}\t${binding(r)}`);
  });
  withGlobalOptions(
    sender.command('refusals').description("what the server's MLLP listener refused since it started: senders by reason, framing errors, closed connections").option('--json', 'print JSON'),
  ).action(async (opts: Opts) => {
    const { withPlatform } = await import('../client.ts');
    const r = await withPlatform(configFrom(opts as Record<string, string>), (c) => c.request<{ mllp: RefusalsJson }>('GET', '/admin/ingest'));
    if (opts.json) return void console.log(JSON.stringify(r.mllp, null, 2));
    const line = (title: string, counts: Record<string, number>) =>
      console.log(`${title}: ${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
    console.log(`since ${r.mllp.since}`);
    line('refused senders', r.mllp.refused);
    line('framing errors', r.mllp.framing);
    line('closed connections', r.mllp.closed);
    for (const x of r.mllp.recent_refusals) console.log(`  ${x.at}  ${x.reason}  MSH-3 '${x.msh3}' MSH-4 '${x.msh4}' from ${x.remote}`);
  });

  withGlobalOptions(
    program
      .command('replay')
      .description("play a synthetic county's feeds/ into a running server through each institution's own channel")
      .argument('<dir>', 'synthetic county directory (county.json, feeds/)')
      .option('--institution <code>', 'only this institution')
      .option('--concurrency <n>', 'parallel senders', '4'),
  ).action(async (dir: string, opts: Opts) => {
    const { runReplay } = await import('../replay.ts');
    await runReplay(configFrom(opts as Record<string, string>), dir, { only: opts.institution as string | undefined, concurrency: Number(opts.concurrency) || 4 });
  });
}

interface DailyRow {
  institution_id: string;
  day: string;
  received: number;
  standardized: number;
  quarantined: number;
  duplicates: number;
  pending: number;
}
interface QuarantineJson {
  summary: Array<{ institution_id: string; reason: string; units: number }>;
  units: Array<{ id: number; institution_id: string; channel: string; reasons: Array<{ code: string; detail?: string }> }>;
}
interface RefusalsJson {
  since: string;
  refused: Record<string, number>;
  framing: Record<string, number>;
  closed: Record<string, number>;
  recent_refusals: Array<{ reason: string; at: string; msh3: string; msh4: string; remote: string }>;
}

/** How a sender must connect over MLLP, for the listings. */
function binding(r: SenderJson): string {
  const parts = [r.addresses.length ? `from ${r.addresses.join(',')}` : '', r.cert_fingerprint ? `cert ${r.cert_fingerprint.slice(0, 23)}…` : '', r.has_secret ? 'MSH-8 secret' : ''];
  return parts.filter(Boolean).join(' + ') || 'HTTP only (no MLLP binding)';
}

interface SenderJson {
  institution_id: string;
  msh3: string;
  msh4: string;
  addresses: string[];
  has_secret: boolean;
  cert_fingerprint: string | null;
}
