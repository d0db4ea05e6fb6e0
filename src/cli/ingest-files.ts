import { createReadStream, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Config } from '../config/index.ts';
import { connectPlatform, type PlatformClient } from './client.ts';
import { ProgressBar } from './progress.ts';
import { sendRetryingUnavailable } from './retry-after.ts';

/** The CSV files under `path` (itself if a file), in name order. */
export function csvFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const out: string[] = [];
  for (const e of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(path, e.name);
    if (e.isDirectory()) out.push(...csvFiles(p));
    else if (/\.csv$/i.test(e.name)) out.push(p);
  }
  return out;
}

export interface CsvResult {
  table: string;
  received: number;
  landed: number;
  duplicates: number;
  quarantined: number;
}

/** An institution's system token through the operator API (what its client-credentials grant would return). */
export async function institutionToken(client: PlatformClient, ref: string): Promise<string> {
  const t = await client.request<{ access_token: string }>('POST', `/admin/institutions/${encodeURIComponent(ref)}/token`, { body: {} });
  return t.access_token;
}

/**
 * Streams one file to `POST /ingest/csv` (bounded memory at both ends); `onBytes` sees the upload progress. Sent again
 * (from its start) while the server answers 503 + Retry-After: rows it landed before are then counted as duplicates.
 */
export async function uploadCsv(serverUrl: string, token: string, file: string, table: string | undefined, onBytes: (n: number) => void): Promise<CsvResult> {
  const q = new URLSearchParams({ file: basename(file), ...(table ? { table } : {}) });
  const res = await sendRetryingUnavailable(() => {
    let sent = 0;
    const body = (async function* () {
      for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
        sent += (chunk as Buffer).length;
        onBytes(sent);
        yield chunk as Buffer;
      }
    })();
    return fetch(`${serverUrl}/ingest/csv?${q}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body: body as unknown as BodyInit,
      duplex: 'half',
    } as RequestInit);
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${basename(file)}: ${res.status} ${describe(text)}`);
  return JSON.parse(text) as CsvResult;
}

function describe(body: string): string {
  try {
    const j = JSON.parse(body);
    return j.issue?.map((i: { details?: { text?: string } }) => i.details?.text).join('; ') ?? body;
  } catch {
    return body.slice(0, 300);
  }
}

/**
 * `healthbrain ingest PATH --institution I [--table T]`: every CSV through the institution's batch channel, with a
 * progress bar per file and a summary. Over HTTP when a server answers, otherwise in-process on the database (the
 * same domain code, then standardizes what it landed before exiting).
 */
export async function runIngest(config: Config, path: string, ref: string, table: string | undefined, json: boolean): Promise<void> {
  const files = csvFiles(path);
  if (!files.length) throw new Error(`no .csv files under ${path}`);
  const client = await connectPlatform(config);
  const total: CsvResult & { files: number; failed: number } = { table: table ?? '*', received: 0, landed: 0, duplicates: 0, quarantined: 0, files: 0, failed: 0 };
  const add = (r: CsvResult) => {
    total.received += r.received;
    total.landed += r.landed;
    total.duplicates += r.duplicates;
    total.quarantined += r.quarantined;
    total.files++;
  };
  try {
    if (client.transport === 'http') {
      const token = await institutionToken(client, ref);
      for (const file of files) {
        const bar = new ProgressBar(basename(file), statSync(file).size);
        try {
          const r = await uploadCsv(config.serverUrl, token, file, table, (n) => bar.update(n));
          bar.finish(statSync(file).size, `${r.received} rows`);
          add(r);
        } catch (err) {
          bar.finish(0, 'FAILED');
          console.error(`  ${(err as Error).message}`);
          total.failed++;
        }
      }
    } else {
      await client.close();
      await inProcess(config, files, ref, table, add, () => total.failed++);
    }
  } finally {
    if (client.transport === 'http') await client.close();
  }
  if (json) console.log(JSON.stringify(total, null, 2));
  else {
    console.log(`files ${total.files} (failed ${total.failed}) · rows received ${total.received} · landed ${total.landed} · duplicates ${total.duplicates} · quarantined ${total.quarantined}`);
  }
  if (total.failed) process.exitCode = 1;
}

async function inProcess(config: Config, files: string[], ref: string, table: string | undefined, add: (r: CsvResult) => void, failed: () => void) {
  const { openPlatform } = await import('../api/index.ts');
  const { ingestFor } = await import('../api/ingest-runtime.ts');
  const { findInstitution } = await import('../auth/index.ts');
  const { ingestCsv } = await import('../ingest/index.ts');
  const pino = (await import('pino')).default;
  const platform = await openPlatform(config, { logger: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    const inst = await findInstitution(platform.deps.db, ref);
    const ingest = ingestFor(platform.deps);
    // One process, one embedded connection: land everything first, then standardize it (drain) before exiting.
    await ingest.worker.stop();
    for (const file of files) {
      const size = statSync(file).size;
      const bar = new ProgressBar(basename(file), size);
      try {
        const r = await ingestCsv(createReadStream(file, { highWaterMark: 256 * 1024 }), {
          institutionId: inst.id, table, fileName: file, land: ingest.landBulk, concurrency: ingest.bulkConcurrency, onProgress: (p) => bar.update(p.bytes, `${p.rows} rows`),
        });
        bar.finish(size, `${r.received} rows`);
        add(r);
      } catch (err) {
        bar.finish(0, 'FAILED');
        console.error(`  ${(err as Error).message}`);
        failed();
      }
    }
    await ingest.drain();
  } finally {
    await platform.close();
  }
}
