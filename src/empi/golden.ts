/**
 * The best-of-sources golden record computed in JS for a few persons (incremental mode), the twin of the set-based
 * SQL in registry.ts `refreshGolden` used by batch mode (a test checks they agree). Per field: the value of the best
 * source (a valid resident ID; a real name over a newborn placeholder or one with a `?`; a birth date confirmed by the
 * ID; a village code over a text key), then the most frequent value, then the newest, then the smallest patient_key.
 * Protected values (resident ID, phone, passport) are kept as the chosen record's ciphertext.
 */
import type { Queryable } from '../store/index.ts';
import { RECORD_COLUMNS } from './comparisons.ts';
import type { RecordFeatures } from './features.ts';
import { rowToFeatures } from './registry.ts';

type Rec = RecordFeatures & { updatedAt: number };
type Golden = Record<string, { value: string; source: string }>;

// `key`: what counts as the same value — the blind index of a protected field (its ciphertexts differ at every write);
// the value kept is the chosen record's ciphertext. Twins of registry.ts GOLDEN_FIELDS.
const FIELDS: Array<{ field: string; get: (r: Rec) => string | null; key?: (r: Rec) => string | null; quality: (r: Rec) => number; where?: (r: Rec) => boolean }> = [
  { field: 'residentId', get: (r) => r.residentId, key: (r) => r.ridBi, quality: () => 1, where: (r) => r.residentIdValid },
  { field: 'name', get: (r) => r.name, quality: (r) => (r.nameKind === 'zh' || r.nameKind === 'latin' ? 2 : 0) - (r.name?.includes('?') ? 1 : 0) },
  { field: 'birthDate', get: (r) => r.birthDate, quality: (r) => (r.ridDob ? 1 : 0) },
  { field: 'sex', get: (r) => r.sex, quality: () => 1 },
  { field: 'phone', get: (r) => r.phone, key: (r) => r.phoneBi, quality: () => 1 },
  { field: 'village', get: (r) => r.village, quality: (r) => (/^\d{12}$/.test(r.village ?? '') ? 1 : 0) },
  { field: 'passport', get: (r) => r.passport, key: (r) => r.passportBi, quality: () => 1 },
];

/** The golden record of one person's records. */
export function goldenOf(recs: Rec[]): Golden {
  const out: Golden = {};
  for (const f of FIELDS) {
    const cands = recs.filter((r) => f.get(r) !== null && (f.where?.(r) ?? true));
    if (!cands.length) continue;
    const key = f.key ?? f.get;
    const count = new Map<string, number>();
    for (const r of cands) count.set(key(r)!, (count.get(key(r)!) ?? 0) + 1);
    cands.sort(
      (a, b) =>
        f.quality(b) - f.quality(a) ||
        count.get(key(b)!)! - count.get(key(a)!)! ||
        b.updatedAt - a.updatedAt ||
        (a.patientKey < b.patientKey ? -1 : a.patientKey > b.patientKey ? 1 : 0),
    );
    out[f.field] = { value: f.get(cands[0])!, source: cands[0].patientKey };
  }
  return out;
}

/** Recomputes and stores the golden record of the given surviving persons (records found through the person index). */
export async function refreshGoldenOf(q: Queryable, personIds: string[]): Promise<void> {
  const { rows } = await q.query<Record<string, unknown>>(
    `WITH RECURSIVE members(root, pid) AS (
       SELECT root, root FROM unnest($1::text[]) AS r(root)
       UNION SELECT m.root, p.person_id FROM empi_person p JOIN members m ON p.merged_into = m.pid
     )
     SELECT m.root, ${RECORD_COLUMNS.split(',').map((c) => 'r.' + c.trim()).join(', ')}, r.updated_at
     FROM members m JOIN empi_record r ON r.person_id = m.pid WHERE r.status = 'active'`,
    [personIds],
  );
  const byRoot = new Map<string, Rec[]>(personIds.map((p) => [p, []]));
  for (const row of rows) byRoot.get(row.root as string)?.push({ ...rowToFeatures(row), updatedAt: (row.updated_at as Date).getTime() });
  const ids: string[] = [];
  const goldens: string[] = [];
  for (const [pid, recs] of byRoot) {
    if (!recs.length) continue;
    ids.push(pid);
    goldens.push(JSON.stringify(goldenOf(recs)));
  }
  if (!ids.length) return;
  await q.query(
    `UPDATE empi_person p SET golden = g.golden::jsonb, resident_id = g.golden::jsonb #>> '{residentId,value}', updated_at = now()
     FROM unnest($1::text[], $2::text[]) AS g(pid, golden) WHERE p.person_id = g.pid`,
    [ids, goldens],
  );
}
