import type { Db, Queryable } from '../store/index.ts';
import { writeEntry, type CodeMapper } from './code-map.ts';
import { SYSTEMS, TARGET_SYSTEM, type LocalKind } from './systems.ts';
import type { Suggestion, Terminology } from './terminology.ts';

export interface UnmappedCode {
  institutionId: string;
  localSystem: string;
  localCode: string;
  localDisplay?: string;
  targetSystem: string;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
  suggestions: Suggestion[];
}

/** The kind of local code a target system implies (for suggestions). Lab items and panels share LOINC. */
function kindOf(targetSystem: string, localSystem: string): LocalKind | undefined {
  if (targetSystem === SYSTEMS.loinc) return /\/(panel|exam)$/.test(localSystem) ? (localSystem.endsWith('/exam') ? 'exam' : 'panel') : 'lab';
  return (Object.entries(TARGET_SYSTEM) as Array<[LocalKind, string | undefined]>).find(([, s]) => s === targetSystem)?.[0];
}

/**
 * The operator's work list: local codes seen without a map, most frequent first, each with the top candidate standard
 * codes by name similarity (Terminology.suggest). Filter by institution.
 */
export async function listUnmapped(db: Queryable, terminology: Terminology, opts: { institution?: string; limit?: number } = {}): Promise<UnmappedCode[]> {
  const { rows } = await db.query<{
    institution_id: string; local_system: string; local_code: string; local_display: string | null; target_system: string;
    seen_count: number; first_seen: Date; last_seen: Date;
  }>(
    `SELECT * FROM terminology_unmapped WHERE ($1::text IS NULL OR institution_id = $1)
      ORDER BY seen_count DESC, institution_id, local_system, local_code LIMIT $2`,
    [opts.institution ?? null, opts.limit ?? 200],
  );
  return rows.map((r) => {
    const kind = kindOf(r.target_system, r.local_system);
    const code = r.local_code.startsWith('name:') ? undefined : r.local_code;
    return {
      institutionId: r.institution_id, localSystem: r.local_system, localCode: r.local_code, localDisplay: r.local_display ?? undefined,
      targetSystem: r.target_system, count: Number(r.seen_count), firstSeen: r.first_seen, lastSeen: r.last_seen,
      suggestions: kind ? terminology.suggest(kind, code, r.local_display ?? undefined, 3) : [],
    };
  });
}

export interface Confirmation {
  institutionId: string;
  localSystem: string;
  localCode: string;
  /** Defaults to the target system the unmapped code was recorded with. */
  targetSystem?: string;
  targetCode: string;
  /** Who confirmed (operator user name). */
  decidedBy: string;
}

/**
 * Confirms a mapping: writes the map entry, removes the code from the unmapped list and puts back on the work queue
 * every quarantined unit of that institution whose reasons name this local code (reason `unmapped-code`), in one
 * transaction. Returns how many units were requeued. Throws when the target code is not a known standard code.
 */
export async function confirmMapping(db: Db, mapper: CodeMapper, c: Confirmation): Promise<{ requeued: number }> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ target_system: string; local_display: string | null }>(
      `SELECT target_system, local_display FROM terminology_unmapped WHERE institution_id = $1 AND local_system = $2 AND local_code = $3`,
      [c.institutionId, c.localSystem, c.localCode],
    );
    const targetSystem = c.targetSystem ?? rows[0]?.target_system;
    if (!targetSystem) throw new Error(`no target system given and ${c.localSystem}|${c.localCode} is not on the unmapped list`);
    if (!mapper.terminology.lookup(targetSystem, c.targetCode)) throw new Error(`${c.targetCode} is not a code of ${targetSystem}`);
    await writeEntry(tx, c.institutionId, c.localSystem, c.localCode, rows[0]?.local_display ?? undefined, targetSystem, c.targetCode, c.decidedBy);
    await tx.query(`DELETE FROM terminology_unmapped WHERE institution_id = $1 AND local_system = $2 AND local_code = $3`, [
      c.institutionId, c.localSystem, c.localCode,
    ]);
    const requeued = await requeueUnits(tx, c.institutionId, holdKey({ system: c.localSystem, code: c.localCode }));
    mapper.remember(c.institutionId, c.localSystem, c.localCode, { targetSystem, targetCode: c.targetCode });
    return { requeued };
  });
}

/** What a held unit waits for: the patient with this MRN, or a map of this local code. */
export function holdKey(w: { mrn: string } | { system: string; code: string }): string {
  return 'mrn' in w ? `patient|${w.mrn}` : `code|${w.system}|${w.code}`;
}

/** Records that a unit (being quarantined in this transaction) waits for `key`, or each of several (see holdKey): one statement. */
export async function holdUnit(tx: Queryable, institutionId: string, key: string | string[], unitId: number): Promise<void> {
  const keys = typeof key === 'string' ? [key] : key;
  if (!keys.length) return;
  await tx.query(
    `INSERT INTO std_held (institution_id, hold_key, unit_id) SELECT $1, k, $3 FROM unnest($2::text[]) AS k ON CONFLICT DO NOTHING`,
    [institutionId, [...new Set(keys)].sort(), unitId],
  );
}

/**
 * Puts back on the work queue the quarantined units of an institution that wait for `key` (std_held) — exactly
 * what ingest's `reprocess` does for a whole reason code, here for the units one event releases, by index.
 */
export async function requeueUnits(tx: Queryable, institutionId: string, key: string): Promise<number> {
  const { rows } = await tx.query<{ unit_id: number }>(
    `DELETE FROM std_held WHERE institution_id = $1 AND hold_key = $2 RETURNING unit_id`,
    [institutionId, key],
  );
  if (!rows.length) return 0;
  const { rowCount } = await tx.query(
    `UPDATE landed_unit SET status = 'landed', attempts = 0, last_error = NULL, reasons = NULL
      WHERE id = ANY($1::bigint[]) AND institution_id = $2 AND status = 'quarantined'`,
    [rows.map((r) => Number(r.unit_id)), institutionId],
  );
  return rowCount;
}
