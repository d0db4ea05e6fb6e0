/**
 * Blocking: which pairs are compared at all. Several independent keys, so that one bad field (a mistyped ID, a
 * homophone, a swapped birth date, a stale phone) never hides a true match: a pair is a candidate when ANY key agrees.
 * Each rule is declared once with its SQL (batch: keys for every record in one INSERT … SELECT) and its JS twin
 * (incremental: keys of the one incoming record); a test checks they agree.
 */
import type { RecordFeatures } from './features.ts';

export interface BlockingRule {
  prefix: string;
  description: string;
  /** SQL text expression over `empi_record` columns; NULL = no key. */
  sql: string;
  js: (f: RecordFeatures) => string | null;
}

const year = (d: string | null) => (d ? d.slice(0, 4) : null);

export const BLOCKING_RULES: BlockingRule[] = [
  // The resident ID, phone and passport block by their blind indexes (protect.ts): equal values, equal keys.
  { prefix: 'r', description: 'resident ID', sql: `'r:' || rid_bi`, js: (f) => (f.ridBi ? `r:${f.ridBi}` : null) },
  {
    prefix: 'n',
    description: 'name pinyin + birth year',
    sql: `'n:' || name_pinyin || '|' || extract(year from birth_date)::int`,
    js: (f) => (f.namePinyin && f.birthDate ? `n:${f.namePinyin}|${Number(year(f.birthDate))}` : null),
  },
  {
    prefix: 'i',
    description: 'name initials + birth date',
    sql: `'i:' || name_initials || '|' || to_char(birth_date, 'YYYY-MM-DD')`,
    js: (f) => (f.nameInitials && f.birthDate ? `i:${f.nameInitials}|${f.birthDate}` : null),
  },
  { prefix: 'p', description: 'phone', sql: `'p:' || phone_bi`, js: (f) => (f.phoneBi ? `p:${f.phoneBi}` : null) },
  {
    prefix: 'd',
    description: 'birth date + village',
    sql: `'d:' || to_char(birth_date, 'YYYY-MM-DD') || '|' || village`,
    js: (f) => (f.birthDate && f.village ? `d:${f.birthDate}|${f.village}` : null),
  },
  {
    prefix: 'v',
    description: 'name pinyin + village',
    sql: `'v:' || name_pinyin || '|' || village`,
    js: (f) => (f.namePinyin && f.village ? `v:${f.namePinyin}|${f.village}` : null),
  },
  { prefix: 'x', description: 'passport number', sql: `'x:' || passport_bi`, js: (f) => (f.passportBi ? `x:${f.passportBi}` : null) },
];

/** SQL expression: the bit of the blocking rule a key (column `key`) belongs to, by its prefix. */
export function ruleBitSql(keyCol: string): string {
  return `(CASE left(${keyCol}, 1) ${BLOCKING_RULES.map((r, i) => `WHEN '${r.prefix}' THEN ${1 << i}`).join(' ')} ELSE 0 END)`;
}

/** The bit of a rule in empi_batch_pair.rules. */
export function ruleBit(prefix: string): number {
  return 1 << BLOCKING_RULES.findIndex((r) => r.prefix === prefix);
}

/** The blocking keys of one record. */
export function blockKeys(f: RecordFeatures): string[] {
  const keys = new Set<string>();
  for (const rule of BLOCKING_RULES) {
    const k = rule.js(f);
    if (k) keys.add(k);
  }
  return [...keys];
}

/**
 * INSERT … SELECT of the keys of the active records matching `where` (records that have no keys yet: the caller
 * guarantees it, the table has no unique constraint), set-based; one scan of the records. No DISTINCT: each rule
 * gives a record at most one key and the rule's prefix keeps keys of different rules apart, so rows are unique.
 *
 * `where` usually reads empi_block itself (NOT EXISTS a key of the record). The records to key are therefore all read
 * before the first key is written — the one-time filter on their count makes the executor fill the materialized CTE
 * first — else each record's NOT EXISTS would scan the rows this very statement has already added (invisible to it,
 * but read), which is quadratic when the planner expects an empty table and picks a nested-loop anti-join.
 */
export function blockKeysInsertSql(where = 'true'): string {
  const cols = ['rid_bi', 'name_pinyin', 'name_initials', 'birth_date', 'phone_bi', 'village', 'passport_bi'];
  return `WITH todo AS MATERIALIZED (SELECT patient_key, ${cols.join(', ')} FROM empi_record WHERE status = 'active' AND (${where}))
    INSERT INTO empi_block (key, patient_key)
    SELECT k.key, t.patient_key FROM todo t
    CROSS JOIN LATERAL (VALUES ${BLOCKING_RULES.map((r) => `(${r.sql.replace(new RegExp(`(${cols.join('|')})`, 'g'), 't.$1')})`).join(', ')}) AS k(key)
    WHERE k.key IS NOT NULL AND (SELECT count(*) FROM todo) > 0`;
}

/** Keys shared by more records than this are skipped (a placeholder phone, a family of twenty): they blow up pairs. */
export const MAX_BLOCK = 200;
