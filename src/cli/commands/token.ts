import type { Command } from 'commander';
import { configFrom, withGlobalOptions } from '../global-options.ts';

interface TokenJson {
  access_token: string;
  expires_in: number;
  scope: string;
}

/**
 * `healthbrain token`: an institution's system token (what its client-credentials grant returns) or a person's token
 * with a role. The token is printed alone on the last line of stdout; details go to stderr.
 */
export function register(program: Command): void {
  withGlobalOptions(
    program
      .command('token')
      .description("print an access token: --institution I for that institution's system token, --role R for a person's")
      .option('--institution <ref>', 'institution id, code or name')
      .option('--role <role>', 'operator, clinician, resident, manager, researcher, auditor or exporter')
      .option('--user <id>', "the person's user id (default <role>@<institution>)")
      .option('--scope <scopes>', 'narrower scopes, space-separated'),
  ).action(async (opts: Record<string, string | undefined>) => {
    if (!opts.institution && !opts.role) throw new Error('give --institution I (system token) or --role R (person token)');
    const { withPlatform } = await import('../client.ts');
    const t = await withPlatform(configFrom(opts), (c) =>
      opts.role
        ? c.request<TokenJson>('POST', '/admin/tokens', { body: { role: opts.role, institution: opts.institution, user: opts.user, scope: opts.scope } })
        : c.request<TokenJson>('POST', `/admin/institutions/${encodeURIComponent(opts.institution!)}/token`, { body: { scope: opts.scope } }),
    );
    console.error(`# ${opts.role ? `${opts.role} token` : `system token of ${opts.institution}`}; scope "${t.scope}"; expires in ${t.expires_in} s`);
    console.log(t.access_token);
  });
}
