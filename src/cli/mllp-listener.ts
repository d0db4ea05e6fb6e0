import type { Listener } from './listeners.ts';

/**
 * `healthbrain serve --mllp-port N`: the HL7 v2 MLLP listener (issue 4), sharing the ingestion runtime (lander,
 * worker, sender registry) with the HTTP routes. Binds the same host as HTTP (`--host`).
 */
export const mllpListener: Listener = {
  name: 'hl7-mllp',
  options: [{ flags: '--mllp-port <n>', description: 'HL7 v2 MLLP listener port (env MLLP_PORT; issue 4 default 2575; off when absent)' }],
  async start(deps) {
    const port = deps.config.mllpPort;
    if (port === undefined) return undefined;
    const { ingestFor } = await import('../api/ingest-runtime.ts'); // lazy: `--help` stays fast
    const ingest = ingestFor(deps);
    const server = await ingest.startMllp(port, deps.config.host);
    return { description: `HL7 v2 MLLP on ${deps.config.host}:${server.port}`, close: () => server.close() };
  },
};
