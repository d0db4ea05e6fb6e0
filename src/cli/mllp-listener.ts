import { readFileSync } from 'node:fs';
import type { Listener } from './listeners.ts';

/** `--mllp-idle-seconds` (env MLLP_IDLE_SECONDS): a positive number of seconds, default 300. */
function idleMs(value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`mllp-idle-seconds must be a positive number of seconds, got '${String(value)}'`);
  return Math.round(n * 1000);
}

/** TLS material from `--mllp-tls-cert/--mllp-tls-key[/--mllp-tls-ca]` (PEM files); both or neither of cert and key. */
function tlsFiles(opts: Record<string, unknown>) {
  const path = (k: string, env: string) => (typeof opts[k] === 'string' ? (opts[k] as string) : process.env[env] || undefined);
  const cert = path('mllpTlsCert', 'MLLP_TLS_CERT');
  const key = path('mllpTlsKey', 'MLLP_TLS_KEY');
  const ca = path('mllpTlsCa', 'MLLP_TLS_CA');
  if (!cert && !key) {
    if (ca) throw new Error('--mllp-tls-ca needs --mllp-tls-cert and --mllp-tls-key');
    return undefined;
  }
  if (!cert || !key) throw new Error('MLLP over TLS needs both --mllp-tls-cert and --mllp-tls-key');
  return { cert: readFileSync(cert), key: readFileSync(key), ...(ca ? { ca: readFileSync(ca) } : {}) };
}

/**
 * `healthbrain serve --mllp-port N`: the HL7 v2 MLLP listener (issue 4), sharing the ingestion runtime (lander,
 * worker, sender registry) with the HTTP routes. Binds the same host as HTTP (`--host`). With `--mllp-tls-cert` and
 * `--mllp-tls-key` the port speaks TLS and asks each client for its certificate (verified against `--mllp-tls-ca`
 * when given, else pinned by the fingerprints registered with `hl7-sender add --cert-fingerprint`).
 */
export const mllpListener: Listener = {
  name: 'hl7-mllp',
  options: [
    { flags: '--mllp-port <n>', description: 'HL7 v2 MLLP listener port (env MLLP_PORT; issue 4 default 2575; off when absent)' },
    { flags: '--mllp-idle-seconds <s>', description: 'close an MLLP connection silent this long (env MLLP_IDLE_SECONDS; default 300)' },
    { flags: '--mllp-tls-cert <pem>', description: 'serve MLLP over TLS with this certificate (env MLLP_TLS_CERT)' },
    { flags: '--mllp-tls-key <pem>', description: 'private key of --mllp-tls-cert (env MLLP_TLS_KEY)' },
    { flags: '--mllp-tls-ca <pem>', description: 'CA that issues the senders\' client certificates (env MLLP_TLS_CA; else fingerprints only)' },
  ],
  async start(deps, opts) {
    const port = deps.config.mllpPort;
    if (port === undefined) return undefined;
    const listen = { idleMs: idleMs(opts.mllpIdleSeconds ?? process.env.MLLP_IDLE_SECONDS), tls: tlsFiles(opts) };
    const { ingestFor } = await import('../api/ingest-runtime.ts'); // lazy: `--help` stays fast
    const ingest = ingestFor(deps);
    const server = await ingest.startMllp(port, deps.config.host, listen);
    return { description: `HL7 v2 MLLP${server.tls ? ' over TLS' : ''} on ${deps.config.host}:${server.port}`, close: () => server.close() };
  },
};
