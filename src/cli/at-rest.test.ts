import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingestFor } from '../api/ingest-runtime.ts';
import { openTestPlatform, type TestPlatform } from '../api/testing.ts';
import { loadConfig } from '../config/index.ts';
import { batchDedupe } from '../empi/index.ts';
import { generateCounty } from '../synth/index.ts';
import { runReplay } from './replay.ts';

/**
 * Issue 10's "grep of the database finds no resident ID or phone in clear" (密评, GB/T 39786 §8.3): a synthetic county
 * through its institutions' own channels (FHIR, HL7 MLLP, CSV uploads), standardized, deduplicated by the EMPI, then
 * EVERY table of the schema dumped as text — bytea columns as escaped text, so bytes in clear show their digits —
 * and searched for every resident ID, passport and phone number of the county's truth. Reports each leaking table.
 */
describe(`a county's data at rest names nobody in clear (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let p: TestPlatform;
  let dir: string;
  before(async () => {
    dir = join(mkdtempSync(join(tmpdir(), 'hb-at-rest-')), 'county');
    await generateCounty({ persons: 150, seed: 23, outDir: dir });
    p = await openTestPlatform();
    await p.app.listen({ port: 0, host: '127.0.0.1' });
    const server = `http://127.0.0.1:${(p.app.server.address() as { port: number }).port}`;
    const ingest = ingestFor(p.deps);
    await ingest.startMllp(0, '127.0.0.1');
    // Warm the server up first: the replay's probe of /healthz gives up after 1.5 s, which a loaded machine can take cold.
    for (let i = 0; i < 20 && !(await fetch(`${server}/healthz`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 500));
    await runReplay(loadConfig({ data: p.dataDir, server }, {}), dir, { concurrency: 4 });
    await ingest.worker.stop();
    await ingest.drain();
    await batchDedupe(p.deps.db, { log: () => undefined });
  });
  after(async () => {
    await p?.close();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('holds no resident ID, passport or phone of the county in clear in any table', { timeout: 1_800_000 }, async () => {
    const truth = readFileSync(join(dir, 'truth/persons.ndjson'), 'utf8').split('\n').filter(Boolean)
      .map((l) => JSON.parse(l) as { residentId?: string; passport?: string; phone?: string; oldPhone?: string });
    const secrets = new Set(truth.flatMap((t) => [t.residentId, t.passport, t.phone, t.oldPhone]).filter((v): v is string => !!v && v.length >= 7));
    assert.ok(secrets.size > 300, `the truth holds the county's identifiers (${secrets.size})`);
    const db = p.deps.db;
    // Sanity: the channels did store them — encrypted — and the EMPI linked records.
    assert.ok((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM fhir_resource WHERE resource_type = 'Patient'`)).rows[0].n > 150);
    const { rows: tables } = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`,
    );
    const { rows: byteaCols } = await db.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND udt_name = 'bytea'`,
    );
    const leaks: Record<string, { rows: number; example: string }> = {};
    let scanned = 0;
    for (const { table_name: table } of tables) {
      const bytea = byteaCols.filter((c) => c.table_name === table).map((c) => `, encode(t."${c.column_name}", 'escape')`).join('');
      const { rows } = await db.query<{ r: string; [k: string]: string | null }>(`SELECT t::text AS r${bytea} FROM "${table}" t`);
      for (const row of rows) {
        scanned++;
        const text = Object.values(row).filter((v): v is string => typeof v === 'string').join('\n');
        // Every digit run that could be one of them (resident IDs end in a digit or X), checked against the truth.
        for (const m of text.matchAll(/\d{7,}[\dXx]?/g)) {
          const run = m[0].toUpperCase();
          const hit = secrets.has(run) ? run : run.length > 18 ? [...secrets].find((s) => run.includes(s)) : undefined;
          if (!hit) continue;
          leaks[table] ??= { rows: 0, example: `${hit.slice(0, 6)}…` };
          leaks[table].rows++;
          break;
        }
        for (const s of truth) if (s.passport && text.includes(s.passport)) ((leaks[table] ??= { rows: 0, example: 'passport' }).rows++, undefined);
      }
    }
    assert.ok(scanned > 1000, `rows scanned: ${scanned}`);
    assert.deepEqual(leaks, {}, `tables holding identifiers in clear: ${Object.entries(leaks).map(([t, l]) => `${t} (${l.rows} rows)`).join(', ')}`);
  });
});
