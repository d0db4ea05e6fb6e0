import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Config } from '../config/index.ts';
import type { CountyJson, Institution } from '../synth/county-types.ts';
import { ApiError, connectPlatform, type PlatformClient } from './client.ts';
import { institutionToken, uploadCsv } from './ingest-files.ts';
import { sendMllpFile } from './mllp-send.ts';
import { sendRetryingUnavailable } from './retry-after.ts';

function files(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

interface Tally {
  institution: string;
  channel: string;
  files: number;
  records: number;
  accepted: number;
  refused: number;
}

/**
 * The address the MLLP listener sees this machine connect from (the local end of a probe connection): replay's HL7
 * senders are registered bound to it, as MLLP senders must be (issue 10).
 */
async function sourceAddressTowards(host: string, port: number): Promise<string> {
  const socket = net.connect(port, host);
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return (socket.localAddress ?? '127.0.0.1').replace(/^::ffff:(?=\d+\.)/i, '');
  } finally {
    socket.destroy();
  }
}

/**
 * Registers the institution (idempotent: an existing code is reused) and, for HL7 senders, its MSH-3/MSH-4, allowed
 * to send over MLLP from `source` (none: HTTP only).
 */
async function register(client: PlatformClient, inst: Institution, source?: string): Promise<void> {
  try {
    await client.request('POST', '/admin/institutions', { body: { name: inst.name, code: inst.code, type: inst.type } });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 409)) throw err;
  }
  if (inst.hl7) {
    await client.request('POST', '/admin/hl7-senders', {
      body: { institution: inst.code, msh3: inst.hl7.sendingApplication, msh4: inst.hl7.sendingFacility, addresses: source ? [source] : [] },
    });
  }
}

/**
 * `healthbrain replay DIR --server URL` (issue 4): plays `DIR/feeds/` into a running server the way the county's
 * institutions would — each registered from county.json, authenticated with its own token, sending through its own
 * channel: FHIR Bundles to /fhir, HL7 v2 over MLLP (port discovered via GET /admin/ingest; HTTP when none), CSV
 * uploads to /ingest/csv. Idempotent: a second run lands nothing new, it only counts duplicates.
 */
export async function runReplay(config: Config, dir: string, options: { only?: string; concurrency: number }): Promise<void> {
  const county = JSON.parse(readFileSync(join(dir, 'county.json'), 'utf8')) as CountyJson;
  const client = await connectPlatform(config);
  try {
    if (client.transport !== 'http') throw new Error(`no server answers at ${config.serverUrl}: replay plays feeds into a running server (healthbrain serve)`);
    const mllpPort = (await client.request<{ mllp_port: number | null }>('GET', '/admin/ingest')).mllp_port;
    const host = new URL(config.serverUrl).hostname;
    const source = mllpPort ? await sourceAddressTowards(host, mllpPort) : undefined;
    const institutions = county.institutions.filter((i) => !options.only || i.code === options.only);
    const tallies: Tally[] = [];
    const started = Date.now();
    // Institutions send in parallel (as they would), each one's files in order.
    let next = 0;
    const workers = Array.from({ length: Math.max(1, options.concurrency) }, async () => {
      while (next < institutions.length) {
        const inst = institutions[next++];
        await register(client, inst, source);
        const token = await institutionToken(client, inst.code);
        const t = await replayInstitution(config.serverUrl, host, mllpPort, token, inst, files(join(dir, inst.feedDir)));
        tallies.push(t);
        console.error(`${inst.code.padEnd(16)} ${t.channel.padEnd(9)} files ${t.files}  records ${t.records}  accepted ${t.accepted}  refused ${t.refused}`);
      }
    });
    await Promise.all(workers);
    const sum = (k: 'records' | 'accepted' | 'refused') => tallies.reduce((s, t) => s + t[k], 0);
    const secs = (Date.now() - started) / 1000;
    console.log(`replayed ${tallies.length} institution(s): ${sum('records')} records, ${sum('accepted')} accepted, ${sum('refused')} refused in ${secs.toFixed(1)} s`);
  } finally {
    await client.close();
  }
}

async function replayInstitution(serverUrl: string, host: string, mllpPort: number | null, token: string, inst: Institution, paths: string[]): Promise<Tally> {
  const t: Tally = { institution: inst.code, channel: inst.format, files: 0, records: 0, accepted: 0, refused: 0 };
  for (const file of paths) {
    if (inst.format === 'csv' && /\.csv$/i.test(file)) {
      const r = await uploadCsv(serverUrl, token, file, undefined, () => undefined).catch((err: Error) => {
        console.error(`  ${err.message}`);
        return undefined;
      });
      t.files++;
      if (r) {
        t.records += r.received;
        t.accepted += r.landed + r.duplicates - r.quarantined;
        t.refused += r.quarantined;
      } else t.refused++;
    } else if (inst.format === 'hl7v2' && !/\.(json|md|csv)$/i.test(file)) {
      t.files++;
      if (mllpPort) {
        t.channel = 'hl7-mllp';
        const r = await sendMllpFile(host, mllpPort, file);
        t.records += r.sent;
        t.accepted += r.acks.AA ?? 0;
        t.refused += r.sent - (r.acks.AA ?? 0);
      } else {
        t.channel = 'hl7-http';
        const res = await post(`${serverUrl}/ingest/hl7`, token, 'x-application/hl7-v2+er7', readFileSync(file));
        // AA=n,AR=n,AE=n (a whole file's per-message codes would not fit in a header).
        const counts = new Map((res.headers.get('x-hl7-ack-counts') ?? '').split(',').filter(Boolean).map((kv) => [kv.split('=')[0], Number(kv.split('=')[1])] as const));
        const all = [...counts.values()].reduce((s, n) => s + n, 0);
        t.records += all;
        t.accepted += counts.get('AA') ?? 0;
        t.refused += all - (counts.get('AA') ?? 0);
      }
    } else if (inst.format === 'fhir' && /\.(json|ndjson)$/i.test(file)) {
      t.files++;
      const text = readFileSync(file, 'utf8');
      const bundles = /\.ndjson$/i.test(file) ? text.split('\n').filter((l) => l.trim()) : [text];
      for (const b of bundles) {
        const res = await post(`${serverUrl}/fhir`, token, 'application/fhir+json', b);
        const entries = countEntries(b);
        t.records += entries;
        if (res.ok) t.accepted += entries;
        else t.refused += entries;
      }
    }
  }
  return t;
}

function countEntries(text: string): number {
  try {
    return (JSON.parse(text) as { entry?: unknown[] }).entry?.length ?? 1;
  } catch {
    return 1;
  }
}

async function post(url: string, token: string, type: string, body: string | Buffer): Promise<Response> {
  // A 503 (the server could not take it now: upload queue full, shutting down) is sent again after its Retry-After.
  const res = await sendRetryingUnavailable(() => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) }));
  await res.arrayBuffer();
  return res;
}

