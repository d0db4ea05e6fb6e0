import type { ConceptMap } from '@medplum/fhirtypes';
import type { Db, Queryable } from '../store/index.ts';
import { normalizeName } from './similarity.ts';
import { standardSystem } from './standard-systems.ts';
import { TARGET_SYSTEM, localSystem as defaultLocalSystem, type LocalKind } from './systems.ts';
import type { Terminology } from './terminology.ts';

/** A local code as an institution sent it. */
export interface LocalCode {
  institutionId: string;
  kind: LocalKind;
  /** The sender's code-system URI/name; defaults to HealthBrain's URI for this institution and kind. */
  system?: string;
  code?: string;
  display?: string;
}

export interface StandardCoding {
  system: string;
  code: string;
  display: string;
}

export type MapResult =
  | { status: 'mapped'; coding: StandardCoding; via: 'map' | 'standard-code' | 'exact-name' }
  /**
   * A valid code of a standard system other than the target, or of the target but outside the loaded tables (issue
   * 17): kept as sent (`coding`, its display from the tables when they have it, else as sent), with the target
   * system's code when a map is known (`reporting`); `finding` says what is missing (a data-quality finding).
   */
  | { status: 'standard'; coding: StandardCoding; targetSystem: string; reporting?: StandardCoding & { equivalence: string }; finding?: CodeFindingKind }
  /** `invalid`: the code claims a standard system but fails its syntax (check digit …): it needs a map like a local code. */
  | { status: 'unmapped'; targetSystem: string; localSystem: string; localCode: string; invalid?: string };

/** What a data-quality finding about an accepted code says (terminology_code_finding.finding). */
export type CodeFindingKind = 'no-reporting-map' | 'not-in-tables';

interface MapEntry {
  targetSystem: string;
  targetCode: string;
}

/**
 * The key a local code is mapped under. A row with a name but no code (diagnoses often come so) is keyed by its
 * normalised name, so one map entry serves every row with that name.
 */
export function localKey(lc: LocalCode): { system: string; code: string } {
  const system = lc.system?.trim() || defaultLocalSystem(lc.institutionId, lc.kind);
  const code = lc.code?.trim() ? lc.code.trim() : `name:${normalizeName(lc.display ?? '')}`;
  return { system, code };
}

/**
 * Per-institution local-code maps (FHIR ConceptMap semantics, stored as rows of `terminology_map`), with the entries
 * cached in memory. `map` resolves a local code in this order:
 *  1. an operator's (or earlier automatic) map entry;
 *  2. the local code IS a standard code of the target system and its name agrees (or no name is given);
 *  3. the local name is exactly an official name or a curated synonym of exactly one standard concept — written as
 *     a map entry decided by `auto:exact-name`, reviewable like any other;
 *  otherwise the code is recorded in `terminology_unmapped` (count, first/last seen) and reported unmapped.
 */
export class CodeMapper {
  readonly terminology: Terminology;
  #entries = new Map<string, MapEntry>();
  /**
   * Negative cache: codes read from `terminology_map` and found without an entry, so that a code sent unmapped again
   * and again (the quarantine path) costs no round trip per occurrence. Cleared for a code by `remember` (a
   * confirmation through this process); a confirmation made by another process is caught by `flush` (see there).
   */
  #unmapped = new Set<string>();
  /** Sightings of unmapped codes per transaction that asked for them to be written together (`defer`, `flush`). */
  #pending = new WeakMap<Queryable, Map<string, Sighting>>();
  /** Data-quality findings per transaction, always written together (`flushFindings`, also by `flush`). */
  #findings = new WeakMap<Queryable, Map<string, Finding>>();

  private constructor(terminology: Terminology) {
    this.terminology = terminology;
  }

  static async open(db: Queryable, terminology: Terminology): Promise<CodeMapper> {
    const m = new CodeMapper(terminology);
    const { rows } = await db.query<{ institution_id: string; local_system: string; local_code: string; target_system: string; target_code: string }>(
      `SELECT institution_id, local_system, local_code, target_system, target_code FROM terminology_map`,
    );
    for (const r of rows) m.#entries.set(cacheKey(r.institution_id, r.local_system, r.local_code), { targetSystem: r.target_system, targetCode: r.target_code });
    return m;
  }

  /** Records a map entry decided elsewhere (a confirmation): the next `map` of that code uses it, at once. */
  remember(institutionId: string, system: string, code: string, entry: MapEntry): void {
    const key = cacheKey(institutionId, system, code);
    this.#entries.set(key, entry);
    this.#unmapped.delete(key);
  }

  /**
   * From now on the unmapped-code sightings of `tx` are collected instead of written one by one; `flush(tx)` writes
   * them in one statement (the worker does so at the end of each batch).
   */
  defer(tx: Queryable): void {
    if (!this.#pending.has(tx)) this.#pending.set(tx, new Map());
  }

  /** Resolves one local code to a standard coding (see class comment); writes only map/unmapped rows, via `tx`. */
  async map(tx: Queryable, lc: LocalCode): Promise<MapResult> {
    const targetSystem = TARGET_SYSTEM[lc.kind];
    const { system, code } = localKey(lc);
    if (!targetSystem) return { status: 'unmapped', targetSystem: '', localSystem: system, localCode: code };
    const key = cacheKey(lc.institutionId, system, code);
    let entry = this.#entries.get(key);
    // A sender already coding in the target system with a known code needs no map: no round trip per coding (an
    // entry overriding it, loaded or confirmed in this process, is still in the cache and wins).
    const standard = !entry && system === targetSystem && code ? this.terminology.lookup(targetSystem, code) : undefined;
    if (standard) return { status: 'mapped', via: 'standard-code', coding: { system: standard.system, code: standard.code, display: standard.display } };
    // A code of a standard system needs no map either (issue 17), whether or not the loaded tables have it — unless
    // an operator's entry (cached) overrides it, or it fails the system's syntax (then it is treated as unmapped).
    const std = standardSystem(system);
    let invalid: string | undefined;
    if (!entry && std && lc.code?.trim()) {
      const c = lc.code.trim();
      const known = this.terminology.lookup(system, c);
      invalid = std.closed ? (known ? undefined : `not a code of ${std.name}`) : std.check(c);
      if (!invalid) return this.#standard(tx, lc, targetSystem, { system, code: c, display: known?.display ?? lc.display?.trim() ?? '' }, !!known);
    }
    if (!entry && !this.#unmapped.has(key)) {
      // Another process (the operator API of a second server) may have confirmed it since we loaded.
      const { rows } = await tx.query<{ target_system: string; target_code: string }>(
        `SELECT target_system, target_code FROM terminology_map WHERE institution_id = $1 AND local_system = $2 AND local_code = $3`,
        [lc.institutionId, system, code],
      );
      if (rows[0]) this.#entries.set(key, (entry = { targetSystem: rows[0].target_system, targetCode: rows[0].target_code }));
    }
    if (entry) {
      const c = this.terminology.lookup(entry.targetSystem, entry.targetCode);
      return { status: 'mapped', via: 'map', coding: { system: entry.targetSystem, code: entry.targetCode, display: c?.display ?? '' } };
    }
    const auto = autoResolve(this.terminology, lc.kind, system, lc.code, lc.display);
    if (auto?.via === 'standard-code') return { status: 'mapped', via: 'standard-code', coding: auto.coding };
    if (auto?.via === 'exact-name') {
      await writeEntry(tx, lc.institutionId, system, code, lc.display, auto.coding.system, auto.coding.code, 'auto:exact-name');
      this.#entries.set(key, { targetSystem: auto.coding.system, targetCode: auto.coding.code });
      this.#unmapped.delete(key);
      return { status: 'mapped', via: 'exact-name', coding: auto.coding };
    }
    this.#unmapped.add(key);
    const sighting = { institutionId: lc.institutionId, system, code, display: lc.display ?? null, targetSystem, count: 1 };
    const pending = this.#pending.get(tx);
    if (!pending) {
      // Written at once; a code mapped by another process since it was cached as unmapped is read again.
      if ((await upsertSightings(tx, [sighting])).length) {
        this.#unmapped.delete(key);
        return this.map(tx, lc);
      }
    } else {
      const seen = pending.get(key);
      if (seen) pending.set(key, { ...seen, count: seen.count + 1, display: sighting.display ?? seen.display });
      else pending.set(key, sighting);
    }
    return { status: 'unmapped', targetSystem, localSystem: system, localCode: code, ...(invalid ? { invalid } : {}) };
  }

  /** A valid standard code: kept as sent, its reporting code added when known; what is missing is a finding. */
  #standard(tx: Queryable, lc: LocalCode, targetSystem: string, coding: StandardCoding, known: boolean): MapResult {
    const rep = this.terminology.reportingCode(coding.system, coding.code, targetSystem);
    const finding: CodeFindingKind | undefined = rep ? (known || coding.system !== targetSystem ? undefined : 'not-in-tables') : coding.system === targetSystem ? 'not-in-tables' : 'no-reporting-map';
    if (finding) {
      let byTx = this.#findings.get(tx);
      if (!byTx) this.#findings.set(tx, (byTx = new Map()));
      const k = `${lc.institutionId}\u0001${coding.system}\u0001${coding.code}\u0001${finding}`;
      const seen = byTx.get(k);
      if (seen) seen.count++;
      else byTx.set(k, { institutionId: lc.institutionId, system: coding.system, code: coding.code, finding, display: coding.display || null, kind: lc.kind, targetSystem, count: 1 });
    }
    return {
      status: 'standard', coding, targetSystem,
      ...(rep && rep.coding.system !== coding.system ? { reporting: { ...rep.coding, equivalence: rep.equivalence } } : {}),
      ...(finding ? { finding } : {}),
    };
  }

  /**
   * Writes the data-quality findings collected on `tx` (standard codes accepted without a reporting map, or outside
   * the tables) in ONE statement, counted per (institution, code, finding), sorted so concurrent writers lock rows in
   * one order. `unitId`: the unit they were last seen in. The standardizer calls it at the end of each unit or batch.
   */
  async flushFindings(tx: Queryable, unitId?: number): Promise<void> {
    const byTx = this.#findings.get(tx);
    this.#findings.delete(tx);
    if (!byTx?.size) return;
    const f = [...byTx.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, x]) => x);
    await tx.query(
      `INSERT INTO terminology_code_finding (institution_id, system, code, finding, display, kind, target_system, seen_count, last_unit)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::bigint[])
       ON CONFLICT (institution_id, system, code, finding)
       DO UPDATE SET seen_count = terminology_code_finding.seen_count + EXCLUDED.seen_count, last_seen = now(),
                     display = coalesce(terminology_code_finding.display, EXCLUDED.display), last_unit = coalesce(EXCLUDED.last_unit, terminology_code_finding.last_unit)`,
      [f.map((x) => x.institutionId), f.map((x) => x.system), f.map((x) => x.code), f.map((x) => x.finding), f.map((x) => x.display),
        f.map((x) => x.kind), f.map((x) => x.targetSystem), f.map((x) => x.count), f.map(() => unitId ?? null)],
    );
  }

  /**
   * Writes the unmapped-code sightings `defer`red on `tx` in ONE statement (sorted by key, so that two writers lock
   * the rows in the same order and never deadlock) and returns the codes among them that have a map entry after all
   * — confirmed by another process after this one cached them as unmapped. Those are evicted from the negative cache
   * and are not counted as unmapped; the caller must not keep the quarantines it made for them (the worker redoes the
   * batch unit by unit).
   */
  async flush(tx: Queryable): Promise<Array<{ institutionId: string; system: string; code: string }>> {
    await this.flushFindings(tx);
    const pending = this.#pending.get(tx);
    this.#pending.delete(tx);
    if (!pending?.size) return [];
    const sightings = [...pending.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
    const stale = await upsertSightings(tx, sightings);
    for (const s of stale) this.#unmapped.delete(cacheKey(s.institutionId, s.system, s.code));
    return stale;
  }
}

interface Finding {
  institutionId: string;
  system: string;
  code: string;
  finding: CodeFindingKind;
  display: string | null;
  kind: string;
  targetSystem: string;
  count: number;
}

interface Sighting {
  institutionId: string;
  system: string;
  code: string;
  display: string | null;
  targetSystem: string;
  count: number;
}

/**
 * Counts sightings into `terminology_unmapped` (count, first/last seen), skipping codes that have a map entry by now;
 * returns those.
 */
async function upsertSightings(tx: Queryable, s: Sighting[]): Promise<Array<{ institutionId: string; system: string; code: string }>> {
  const { rows } = await tx.query<{ institution_id: string; local_system: string; local_code: string; mapped: boolean }>(
    `WITH input AS (
       SELECT x.*, EXISTS (SELECT 1 FROM terminology_map m
                            WHERE m.institution_id = x.inst AND m.local_system = x.sys AND m.local_code = x.code) AS mapped
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[]) WITH ORDINALITY AS x(inst, sys, code, display, target, n, ord)),
     ins AS (
       INSERT INTO terminology_unmapped (institution_id, local_system, local_code, local_display, target_system, seen_count)
       SELECT inst, sys, code, display, target, n FROM input WHERE NOT mapped ORDER BY ord
       ON CONFLICT (institution_id, local_system, local_code)
       DO UPDATE SET seen_count = terminology_unmapped.seen_count + EXCLUDED.seen_count, last_seen = now(),
                     local_display = coalesce(EXCLUDED.local_display, terminology_unmapped.local_display)
       RETURNING 1)
     SELECT inst AS institution_id, sys AS local_system, code AS local_code, mapped FROM input WHERE mapped`,
    [s.map((x) => x.institutionId), s.map((x) => x.system), s.map((x) => x.code), s.map((x) => x.display), s.map((x) => x.targetSystem), s.map((x) => x.count)],
  );
  return rows.map((r) => ({ institutionId: r.institution_id, system: r.local_system, code: r.local_code }));
}

/**
 * The decisions that need no map entry (steps 2 and 3 of CodeMapper.map): the sender already uses the standard
 * system; the local code is a standard code whose name agrees (or no name is given); the local name is exactly an
 * official name or curated synonym of exactly one concept. Pure — also used to measure the auto-map precision.
 */
export function autoResolve(
  terminology: Terminology, kind: LocalKind, system: string, code: string | undefined, display: string | undefined,
): { via: 'standard-code' | 'exact-name'; coding: StandardCoding } | undefined {
  const targetSystem = TARGET_SYSTEM[kind];
  const c = code?.trim();
  if (system === targetSystem && c) {
    const std = terminology.lookup(targetSystem, c);
    if (std) return { via: 'standard-code', coding: { system: std.system, code: std.code, display: std.display } };
  }
  if (c) {
    const same = terminology.sameCode(kind, c);
    if (same && (!display || terminology.similarity(kind, same, display) >= 0.3)) {
      return { via: 'standard-code', coding: { system: same.system, code: same.code, display: same.display } };
    }
  }
  const exact = display ? terminology.exactName(kind, display) : undefined;
  if (exact) return { via: 'exact-name', coding: { system: exact.system, code: exact.code, display: exact.display } };
  return undefined;
}

function cacheKey(inst: string, system: string, code: string): string {
  return `${inst}\u0001${system}\u0001${code}`;
}

export async function writeEntry(
  tx: Queryable, inst: string, system: string, code: string, display: string | undefined, targetSystem: string, targetCode: string, by: string,
): Promise<void> {
  await tx.query(
    `INSERT INTO terminology_map (institution_id, local_system, local_code, local_display, target_system, target_code, decided_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (institution_id, local_system, local_code) DO UPDATE SET target_system = EXCLUDED.target_system,
       target_code = EXCLUDED.target_code, local_display = coalesce(EXCLUDED.local_display, terminology_map.local_display),
       decided_by = EXCLUDED.decided_by, decided_at = now()`,
    [inst, system, code, display ?? null, targetSystem, targetCode, by],
  );
}

/**
 * The map entries of one institution as FHIR R4 ConceptMaps, one per (local system → target system) group
 * (http://hl7.org/fhir/R4/conceptmap.html).
 */
export async function exportConceptMap(db: Queryable, institutionId: string): Promise<ConceptMap> {
  const { rows } = await db.query<{
    local_system: string; local_code: string; local_display: string | null; target_system: string; target_code: string; equivalence: string; decided_by: string;
  }>(
    `SELECT local_system, local_code, local_display, target_system, target_code, equivalence, decided_by FROM terminology_map
      WHERE institution_id = $1 ORDER BY local_system, target_system, local_code`,
    [institutionId],
  );
  const groups = new Map<string, NonNullable<ConceptMap['group']>[number]>();
  for (const r of rows) {
    const k = `${r.local_system}\u0001${r.target_system}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { source: r.local_system, target: r.target_system, element: [] }));
    g.element!.push({
      code: r.local_code,
      ...(r.local_display ? { display: r.local_display } : {}),
      target: [{ code: r.target_code, equivalence: r.equivalence as 'equivalent', comment: `decided by ${r.decided_by}` }],
    });
  }
  return {
    resourceType: 'ConceptMap',
    id: `local-${institutionId}`.replace(/[^A-Za-z0-9\-.]/g, '-').slice(0, 64),
    status: 'active',
    name: 'LocalCodes',
    title: `${institutionId} 本地代码映射`,
    group: [...groups.values()],
  };
}

export type { Db };
