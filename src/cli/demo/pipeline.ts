import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DemoUser } from '../../api/demo-routes.ts';
import type { Config } from '../../config/index.ts';
import type { CountyJson } from '../../synth/index.ts';
import type { RunningServer } from '../server-runtime.ts';
import { ensureCounty, type CountySpec } from './county.ts';
import { quarantineShare } from './quarantine-share.ts';
import { rankScenario, type DemoScenario } from './scenario.ts';
import type { Queryable } from '../../store/index.ts';
import { demoUsers } from './users.ts';
import { ensureWebBuilt } from './web-build.ts';

export interface DemoOptions {
  /** Platform config: data dir, HTTP host/port; `mllpPort` undefined means any free port. */
  config: Config;
  county: CountySpec;
  /** One line of progress (default: stderr). */
  log?: (line: string) => void;
}

/** What a finished demo set-up hands back (also written to `<data>/demo.json` for scripts and the e2e test). */
export interface DemoInfo {
  url: string;
  countyDir: string;
  users: DemoUser[];
  scenario: DemoScenario;
  /** Institution names by code (the county's). */
  institutions: Record<string, string>;
  /** EMPI person ids of the scenario's patients (what the record URLs use). */
  persons: { shared: string; unrelated: string };
  /** Seconds per step. */
  timings: Record<string, number>;
}

export interface DemoRun extends DemoInfo {
  server: RunningServer;
}

/** The institution whose clinician the demo and the e2e test sign in as: the county's general hospital. */
export function clinicianInstitutionOf(county: CountyJson): string {
  return (county.institutions.find((i) => i.type === 'county-hospital') ?? county.institutions[0]).code;
}

/**
 * The whole demo, step by step (the orchestration only: each step is a public command or module of the platform):
 * 1. the synthetic county (generated once into `<data>/county`, reused afterwards);
 * 2. the web console built if `web/dist` is missing or stale;
 * 3. the server (PGlite unless DATABASE_URL, HTTP + MLLP) with the demo sign-in routes;
 * 4. every institution's feed replayed through its own channel (FHIR REST, HL7 over MLLP, CSV upload) — once: a
 *    re-run on the same data dir skips it (replay is idempotent anyway, but costs minutes);
 * 5. standardization drained;
 * 6. the EMPI's batch dedupe (links anything the incremental matching left without a person, retrains the model);
 * 7. demo users and scenario patients chosen, `<data>/demo.json` written.
 * The server keeps running: stop it with `run.server.stop()`.
 */
export async function runDemo(options: DemoOptions): Promise<DemoRun> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const { config } = options;
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round((now - t) / 100) / 10;
    t = now;
  };
  const step = (n: number, text: string) => log(`\n[${n}/7] ${text}`);

  const countyDir = join(config.dataDir, 'county');
  step(1, 'synthetic county');
  const { county } = await ensureCounty(countyDir, options.county, log);
  lap('county');

  step(2, 'web console');
  await ensureWebBuilt(log);
  lap('web');

  step(3, 'server');
  // Demo users are only known once the EMPI has run (the resident is a golden person): the demo routes read this
  // array at each request, so it is filled in place below.
  const users: DemoUser[] = [];
  const { createDemoRoutes } = await import('../../api/demo-routes.ts');
  const { routePlugins } = await import('../../api/index.ts');
  const { startServer } = await import('../server-runtime.ts');
  const server = await startServer({ ...config, mllpPort: config.mllpPort ?? 0 }, {}, { plugins: [...routePlugins, createDemoRoutes(users)] });
  try {
    const { platform, url } = server;
    const { clientFor } = await import('../client.ts');
    const api = clientFor(platform);
    log(`serving ${url} (${platform.deps.db.engine}, data ${config.dataDir})`);
    lap('server');

    step(4, 'ingestion: every institution sends its feed through its own channel');
    // An initial load: land first, standardize after. The embedded engine runs one transaction at a time, so with the
    // worker busy every MLLP ACK and FHIR answer waits for a whole standardization batch and the serial senders crawl;
    // with it paused, landing (still acknowledged only after the durable write) runs at full speed, and step 5
    // standardizes the backlog. The worker is restarted afterwards for whatever arrives while the demo runs.
    const { ingestFor } = await import('../../api/ingest-runtime.ts');
    const ingest = ingestFor(platform.deps);
    const worker = ingest.worker;
    const stateFile = join(config.dataDir, 'demo-state.json');
    const state = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as { replayed?: string }) : {};
    // Which county went into which database (DATABASE_URL may point the same data dir at another one).
    const countyKey = `${county.generator.seed}/${county.generator.persons}/${config.databaseUrl ? new URL(config.databaseUrl).host + new URL(config.databaseUrl).pathname : 'pglite'}`;
    if (state.replayed === countyKey) {
      log('feeds already replayed into this data dir (delete it to start over)');
    } else {
      const { runReplay } = await import('../replay.ts');
      await worker.stop();
      await runReplay({ ...config, serverUrl: url }, countyDir, { concurrency: 8 });
      writeFileSync(stateFile, JSON.stringify({ replayed: countyKey, at: new Date().toISOString() }) + '\n');
    }
    lap('replay');

    step(5, 'standardization: the landed backlog → standard FHIR resources');
    await worker.stop();
    await drainWithProgress(api, () => ingest.drain(), log);
    worker.start();
    lap('standardize');

    step(6, 'EMPI: batch dedupe');
    const { batchDedupe } = await import('../../empi/index.ts');
    const r = await batchDedupe(platform.deps.db, { log: () => undefined });
    const { rows } = await platform.deps.db.query<{ records: number; persons: number }>(
      `SELECT count(*)::int AS records, count(DISTINCT empi_resolve(person_id))::int AS persons FROM empi_record WHERE status = 'active'`,
    );
    log(`EMPI: ${rows[0].records} institution-level patients → ${rows[0].persons} persons (batch: ${r.records} unlinked records, ${r.newPersons} new persons, ${r.reviewItems} for review)`);
    lap('empi');

    step(7, 'demo users');
    const { scenario, persons } = await chooseScenario(api, platform.deps.db, countyDir, clinicianInstitutionOf(county));
    log(`shared patient ${scenario.shared.name} (${persons.shared}): records at ${scenario.shared.institutions.join(', ')}; unrelated ${scenario.unrelated.name} (${persons.unrelated})`);
    users.push(...demoUsers(county, scenario, persons.shared));
    lap('users');
    const institutions = Object.fromEntries(county.institutions.map((i) => [i.code, i.name]));
    const info: DemoInfo = { url, countyDir, users, scenario, persons, institutions, timings };
    writeFileSync(join(config.dataDir, 'demo.json'), JSON.stringify(info, null, 2) + '\n');
    return { ...info, server };
  } catch (err) {
    await server.stop('demo set-up failed').catch(() => undefined);
    throw err;
  }
}

/**
 * The demo's two patients as the platform sees them: the best-ranked ground-truth candidate whose EMPI person holds
 * records of three or more institutions including the clinician's (what the record viewer will show), and the first
 * whose EMPI person holds none of the clinician's institution. The EMPI has the last word, not the ground truth.
 */
async function chooseScenario(
  api: { request<T>(method: string, path: string): Promise<T> },
  db: Queryable,
  countyDir: string,
  clinicianInstitution: string,
): Promise<{ scenario: DemoScenario; persons: { shared: string; unrelated: string } }> {
  const { pixLookup, RESIDENT_ID_SYSTEM } = await import('../../empi/index.ts');
  const codeOf = new Map((await api.request<Array<{ id: string; code: string }>>('GET', '/admin/institutions')).map((i) => [i.id, i.code]));
  const linked = async (residentId: string) => {
    const pix = await pixLookup(db, `${RESIDENT_ID_SYSTEM}|${residentId}`);
    if (!pix) return undefined;
    // The EMPI's cross-reference: which institutions hold a Patient linked to this person.
    const { rows } = await db.query<{ institution_id: string }>('SELECT DISTINCT institution_id FROM empi_record WHERE patient_key = ANY($1::text[])', [pix.patientKeys]);
    return { personId: pix.personId, institutions: rows.map((r) => codeOf.get(r.institution_id) ?? r.institution_id).sort() };
  };
  const ranked = await rankScenario(countyDir, clinicianInstitution);
  let shared: (DemoScenario['shared'] & { personId: string }) | undefined;
  for (const c of ranked.shared) {
    const p = await linked(c.residentId);
    if (p && p.institutions.length >= 3 && p.institutions.includes(clinicianInstitution)) {
      shared = { ...c, institutions: p.institutions, personId: p.personId };
      break;
    }
  }
  let unrelated: (DemoScenario['unrelated'] & { personId: string }) | undefined;
  for (const c of ranked.unrelated) {
    const p = await linked(c.residentId);
    if (p && p.institutions.length >= 1 && !p.institutions.includes(clinicianInstitution)) {
      unrelated = { ...c, institutions: p.institutions, personId: p.personId };
      break;
    }
  }
  if (!shared || !unrelated) {
    throw new Error(`no EMPI person ${shared ? 'unrelated to' : 'linked across three institutions including'} ${clinicianInstitution} among ${ranked.shared.length + ranked.unrelated.length} candidates: a bigger county is needed (--persons)`);
  }
  const { personId: sharedId, ...s } = shared;
  const { personId: unrelatedId, ...u } = unrelated;
  return { scenario: { clinicianInstitution, shared: s, unrelated: u }, persons: { shared: sharedId, unrelated: unrelatedId } };
}

interface FeedRow {
  received: number;
  standardized: number;
  quarantined: number;
  duplicates: number;
}

async function feedTotals(api: { request<T>(method: string, path: string): Promise<T> }) {
  const rows = await api.request<FeedRow[]>('GET', '/admin/feeds');
  const sum = (k: keyof FeedRow) => rows.reduce((s, r) => s + r[k], 0);
  const t = { received: sum('received'), standardized: sum('standardized'), quarantined: sum('quarantined'), duplicates: sum('duplicates') };
  return { ...t, pending: t.received - t.standardized - t.quarantined - t.duplicates };
}

/**
 * Runs `drain` (the ingestion runtime's: standardize until nothing is left landed) with the feed counts of the
 * operator API before and after. Counts are not polled during the drain: on the embedded engine a poll waits for it.
 */
export async function drainWithProgress(
  api: { request<T>(method: string, path: string): Promise<T> },
  drain: () => Promise<number>,
  log: (line: string) => void,
): Promise<void> {
  const before = await feedTotals(api);
  // No ticker: the embedded engine runs in this thread and the drain's queries chain without yielding to timers.
  log(`standardizing ${before.pending.toLocaleString('en-US')} landed unit(s) …`);
  const started = Date.now();
  const processed = await drain();
  const after = await feedTotals(api);
  const secs = (Date.now() - started) / 1000;
  log(`standardized ${after.standardized.toLocaleString('en-US')}, quarantined ${after.quarantined.toLocaleString('en-US')} (see \`healthbrain quarantine\`), duplicates ${after.duplicates.toLocaleString('en-US')}, still pending ${after.pending} — ${processed} unit(s) in ${secs.toFixed(1)} s (${Math.round(processed / Math.max(secs, 0.1))}/s)`);
  for (const line of await quarantineShare(api, after)) log(line); // issue 17: the share held, explained, and how to work it
}
