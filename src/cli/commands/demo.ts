import type { Command } from 'commander';
import { configFrom, withGlobalOptions } from '../global-options.ts';

const DEMO_CODE = 'DEMO-HOSPITAL';

/**
 * `healthbrain demo` (what `npm run demo` runs): `serve` on the embedded database with a demo institution
 * registered, printing a token and a curl line to try. Later issues grow it into the full demo (synthetic county
 * replayed through the ingestion channels).
 */
export function register(program: Command): void {
  withGlobalOptions(
    program
      .command('demo')
      .description('serve with a demo institution registered, and print a token and a curl command to try')
      .option('--port <n>', 'HTTP port (env PORT, default 8080)')
      .option('--host <host>', 'address to bind (env HOST, default 127.0.0.1)'),
  ).action(async (opts: Record<string, string | undefined>) => {
    // The demo talks to a person at a terminal: request logs only when asked for (LOG_LEVEL=info).
    const config = { ...configFrom(opts), logLevel: process.env.LOG_LEVEL ?? 'warn' };
    const { startServer } = await import('../server-runtime.ts');
    const { clientFor } = await import('../client.ts');
    const { platform, url } = await startServer(config, opts);
    const api = clientFor(platform);
    const list = await api.request<Array<{ code: string }>>('GET', '/admin/institutions');
    if (!list.some((i) => i.code === DEMO_CODE)) {
      const r = await api.request<{ client_id: string; client_secret: string }>('POST', '/admin/institutions', {
        body: { name: '演示县人民医院 (demo county hospital)', code: DEMO_CODE, type: 'hospital' },
      });
      console.log(`registered ${DEMO_CODE}: client_id ${r.client_id} client_secret ${r.client_secret}`);
    }
    const token = await api.request<{ access_token: string; expires_in: number }>('POST', `/admin/institutions/${DEMO_CODE}/token`);
    console.log(`\nHealthBrain demo serving ${url}/fhir (${platform.deps.db.engine}, data ${config.dataDir})`);
    console.log(`${DEMO_CODE} system token (valid ${token.expires_in} s; more: npx healthbrain token --institution ${DEMO_CODE}):`);
    console.log(`\nTOKEN=${token.access_token}\n`);
    console.log(`curl -s -X POST -H "authorization: Bearer $TOKEN" -H 'content-type: application/fhir+json' \\`);
    console.log(`  -d '{"resourceType":"Patient","name":[{"text":"张三"}],"gender":"male"}' ${url}/fhir/Patient`);
    console.log(`curl -s -G -H "authorization: Bearer $TOKEN" --data-urlencode 'name=张三' ${url}/fhir/Patient\n`);
  });
}
