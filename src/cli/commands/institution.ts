import type { Command } from 'commander';
import { configFrom, withGlobalOptions } from '../global-options.ts';

interface InstitutionJson {
  id: string;
  code: string;
  name: string;
  type: string;
  created_at: string;
  client_id?: string;
  client_secret?: string;
}

/** `healthbrain institution add|secret|list`: register institutions (OAuth clients) through the operator API. */
export function register(program: Command): void {
  const inst = program.command('institution').description('register and list institutions (each is an OAuth client)');

  withGlobalOptions(
    inst
      .command('add')
      .description("register an institution; prints its client's id and secret (the secret is shown only once)")
      .argument('<name>', 'institution name, e.g. 安吉县人民医院')
      .option('--code <code>', 'short unique code (default: the name if code-like, else generated)')
      .option('--type <type>', 'hospital, township-health-centre, village-clinic, cdc, … (default hospital)')
      .option('--jwks <file>', "the client's public JWKS, for SMART Backend Services client assertions (optional)")
      .option('--json', 'print JSON'),
  ).action(async (name: string, opts: Record<string, string | undefined>) => {
    const { withPlatform } = await import('../client.ts');
    const jwks = opts.jwks ? JSON.parse((await import('node:fs')).readFileSync(opts.jwks, 'utf8')) : undefined;
    const r = await withPlatform(configFrom(opts), (c) =>
      c.request<InstitutionJson>('POST', '/admin/institutions', { body: { name, code: opts.code, type: opts.type, jwks } }),
    );
    if (opts.json) return void console.log(JSON.stringify(r, null, 2));
    console.log(`institution_id ${r.id}\ncode           ${r.code}\nname           ${r.name}\ntype           ${r.type}`);
    console.log(`client_id      ${r.client_id}\nclient_secret  ${r.client_secret}`);
  });

  withGlobalOptions(
    inst
      .command('secret')
      .description("give an institution's client a new secret (the old one stops working); prints client_id and client_secret")
      .argument('<institution>', 'institution id, code or name'),
  ).action(async (ref: string, opts: Record<string, string | undefined>) => {
    const { withPlatform } = await import('../client.ts');
    const r = await withPlatform(configFrom(opts), (c) =>
      c.request<InstitutionJson>('POST', `/admin/institutions/${encodeURIComponent(ref)}/secret`),
    );
    console.log(`code           ${r.code}\nclient_id      ${r.client_id}\nclient_secret  ${r.client_secret}`);
  });

  withGlobalOptions(inst.command('list').description('list registered institutions').option('--json', 'print JSON')).action(
    async (opts: Record<string, string | undefined>) => {
      const { withPlatform } = await import('../client.ts');
      const rows = await withPlatform(configFrom(opts), (c) => c.request<InstitutionJson[]>('GET', '/admin/institutions'));
      if (opts.json) return void console.log(JSON.stringify(rows, null, 2));
      for (const r of rows) console.log(`${r.code}\t${r.type}\t${r.id}\t${r.name}`);
      if (!rows.length) console.error('(no institutions registered: healthbrain institution add NAME)');
    },
  );
}
