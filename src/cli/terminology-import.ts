import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Config } from '../config/index.ts';
import type { ImportFormat, ImportResult } from '../terminology/index.ts';
import { connectPlatform } from './client.ts';

/**
 * `healthbrain terminology import FORMAT FILE` (issue 17): the publisher's file streamed to the server's
 * `POST /admin/terminology/import/:format` (bounded memory at both ends), or — no server — imported in-process on
 * the database by the same domain function.
 */
export async function importDistribution(config: Config, format: string, file: string, opts: { version?: string; system?: string }): Promise<ImportResult> {
  const { IMPORT_FORMATS } = await import('../terminology/index.ts');
  if (!(IMPORT_FORMATS as readonly string[]).includes(format)) throw new Error(`format must be one of ${IMPORT_FORMATS.join(', ')}`);
  statSync(file); // a missing file fails here, before anything is opened
  const version = opts.version ?? versionInName(basename(file));
  const client = await connectPlatform(config);
  if (client.transport === 'http') {
    try {
      const q = new URLSearchParams({ ...(version ? { version } : {}), ...(opts.system ? { system: opts.system } : {}) });
      const res = await fetch(`${config.serverUrl}/admin/terminology/import/${format}?${q}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await client.adminToken()}`, 'content-type': 'application/octet-stream' },
        body: createReadStream(file, { highWaterMark: 256 * 1024 }) as unknown as BodyInit,
        duplex: 'half',
      } as RequestInit);
      const text = await res.text();
      if (!res.ok) throw new Error(`${basename(file)}: ${res.status} ${text.slice(0, 500)}`);
      return JSON.parse(text) as ImportResult;
    } finally {
      await client.close();
    }
  }
  await client.close();
  const { openPlatform } = await import('../api/index.ts');
  const { importFormat, resolveSystem } = await import('../terminology/index.ts');
  const pino = (await import('pino')).default;
  const platform = await openPlatform(config, { logger: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    return await importFormat(platform.deps.db, format as ImportFormat, createReadStream(file, { highWaterMark: 256 * 1024 }), {
      version, system: opts.system ? resolveSystem(opts.system) : undefined,
    });
  } finally {
    await platform.close();
  }
}

/** A release named in a distribution file's name (RxNorm_full_11042024 → 20241104); undefined to let the file say. */
export function versionInName(name: string): string | undefined {
  const us = /_(\d{2})(\d{2})(\d{4})(?:\D|$)/.exec(name); // RxNorm: MMDDYYYY
  if (/rxn|rxnorm/i.test(name) && us) return `${us[3]}${us[1]}${us[2]}`;
  return undefined;
}
