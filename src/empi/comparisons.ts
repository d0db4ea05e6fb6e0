/**
 * The comparisons, declared as data (Splink style): for each field an ordered list of levels, best first, the last
 * one being "else". Each level has a SQL predicate over the two records aliased `l` and `r` (batch mode: the database
 * computes the comparison vectors of all blocked pairs) and a JS predicate over two RecordFeatures (incremental mode:
 * one record against its few candidates). `comparisons.test.ts` checks that both renderings agree.
 *
 * A comparison is "null" (γ = -1, no evidence either way) when either side lacks the field.
 */
import type { RecordFeatures } from './features.ts';
import { edit1, hamming1, jaroWinkler } from './similarity.ts';

type F = RecordFeatures;

export interface ComparisonLevel {
  label: string;
  sql: string;
  js: (l: F, r: F) => boolean;
}

export interface Comparison {
  /** Short name, also the suffix of the batch work-table column `g_<name>`. */
  name: 'rid' | 'name' | 'dob' | 'sex' | 'phone' | 'addr' | 'passport';
  nullSql: string;
  isNull: (l: F, r: F) => boolean;
  levels: ComparisonLevel[];
  /** Level index whose weight is adjusted by the term frequency of the agreed name value. */
  tfLevel?: number;
}

const ELSE: ComparisonLevel = { label: 'else', sql: 'true', js: () => true };

/** Newborn pattern names ("张丽之子") only ever agree with newborn pattern names: never with the mother's own name. */
const sameNewbornness = (l: F, r: F) => (l.nameKind === 'newborn') === (r.nameKind === 'newborn');
const SAME_NEWBORNNESS = `((l.name_kind = 'newborn') = (r.name_kind = 'newborn'))`;

/**
 * One position of two keyed variant arrays agrees (protect.ts): for `rid_near` / `passport_near`, the two values
 * differ in exactly one character when they differ at all. Position by position — a variant of one position can
 * only equal the variant of the same position — so 18 comparisons, not 18 × 18 (`&&`). `n` is the longest array.
 */
function SAME_POSITION(col: string, n: number): string {
  return '(' + Array.from({ length: n }, (_, i) => `l.${col}[${i + 1}] = r.${col}[${i + 1}]`).join(' OR ') + ')';
}
const samePosition = (a: string[], b: string[]) => a.some((v, i) => v === b[i]);

/**
 * Necessary condition for empi_edit1 on two names (the greedy one-edit test): lengths within one, and the edit — the
 * only place they differ — leaves the first or the last character agreeing, unless a name is one character long or
 * holds the '?' wildcard. Spares the function call for almost every pair of different names.
 */
const EDIT1_GUARD = `abs(length(l.name) - length(r.name)) <= 1
  AND (left(l.name, 1) = left(r.name, 1) OR right(l.name, 1) = right(r.name, 1) OR length(l.name) <= 1 OR length(r.name) <= 1
    OR strpos(l.name, '?') > 0 OR strpos(r.name, '?') > 0)`;

function dmy(d: string): [string, string, string] {
  return [d.slice(0, 4), d.slice(5, 7), d.slice(8, 10)];
}

export const COMPARISONS: Comparison[] = [
  {
    // On the keyed forms only (protect.ts): the blind index for equality, the masked variants for one digit, the
    // swapped variants for a transposition — the same levels the clear IDs gave (comparisons.test.ts pins them).
    name: 'rid',
    nullSql: 'l.rid_bi IS NULL OR r.rid_bi IS NULL',
    isNull: (l, r) => l.ridBi === null || r.ridBi === null,
    levels: [
      { label: 'exact', sql: 'l.rid_bi = r.rid_bi', js: (l, r) => l.ridBi === r.ridBi },
      { label: 'one digit', sql: SAME_POSITION('rid_near', 18), js: (l, r) => samePosition(l.ridNear!, r.ridNear!) },
      { label: 'transposition', sql: 'l.rid_swaps[1] = ANY(r.rid_swaps)', js: (l, r) => r.ridSwaps!.includes(l.ridSwaps![0]) },
      ELSE,
    ],
  },
  {
    name: 'name',
    // A newborn's placeholder ("张丽之子") against a real name says nothing about the child's name: no evidence.
    nullSql: `l.name IS NULL OR r.name IS NULL OR NOT ${SAME_NEWBORNNESS}`,
    isNull: (l, r) => l.name === null || r.name === null || !sameNewbornness(l, r),
    tfLevel: 0,
    levels: [
      { label: 'exact', sql: 'l.name = r.name', js: (l, r) => l.name === r.name },
      {
        label: 'same pinyin (homophone)',
        sql: `l.name_pinyin = r.name_pinyin AND ${SAME_NEWBORNNESS}`,
        js: (l, r) => l.namePinyin !== null && l.namePinyin === r.namePinyin && sameNewbornness(l, r),
      },
      {
        label: 'one character edit',
        sql: `${EDIT1_GUARD} AND empi_edit1(l.name, r.name) AND ${SAME_NEWBORNNESS}`,
        js: (l, r) => edit1(l.name!, r.name!) && sameNewbornness(l, r),
      },
      {
        label: 'pinyin similar (same first letter, Jaro-Winkler ≥ 0.92)',
        sql: `left(l.name_pinyin, 1) = left(r.name_pinyin, 1) AND empi_jaro_winkler(l.name_pinyin, r.name_pinyin) >= 0.92 AND ${SAME_NEWBORNNESS}`,
        js: (l, r) =>
          l.namePinyin !== null &&
          r.namePinyin !== null &&
          l.namePinyin[0] === r.namePinyin[0] &&
          jaroWinkler(l.namePinyin, r.namePinyin) >= 0.92 &&
          sameNewbornness(l, r),
      },
      ELSE,
    ],
  },
  {
    name: 'dob',
    nullSql: 'l.birth_date IS NULL OR r.birth_date IS NULL',
    isNull: (l, r) => l.birthDate === null || r.birthDate === null,
    levels: [
      { label: 'exact', sql: 'l.birth_date = r.birth_date', js: (l, r) => l.birthDate === r.birthDate },
      {
        label: 'day-month swap',
        sql: `extract(year from l.birth_date) = extract(year from r.birth_date)
          AND extract(month from l.birth_date) = extract(day from r.birth_date)
          AND extract(day from l.birth_date) = extract(month from r.birth_date)`,
        js: (l, r) => {
          const [ly, lm, ld] = dmy(l.birthDate!);
          const [ry, rm, rd] = dmy(r.birthDate!);
          return ly === ry && Number(lm) === Number(rd) && Number(ld) === Number(rm);
        },
      },
      {
        label: 'one digit',
        // One digit of YYYYMMDD differs: two of year, month and day agree (spares the call for most pairs).
        sql: `((extract(year from l.birth_date) = extract(year from r.birth_date)
              AND (extract(month from l.birth_date) = extract(month from r.birth_date) OR extract(day from l.birth_date) = extract(day from r.birth_date)))
            OR (extract(month from l.birth_date) = extract(month from r.birth_date) AND extract(day from l.birth_date) = extract(day from r.birth_date)))
          AND empi_hamming1(to_char(l.birth_date, 'YYYYMMDD'), to_char(r.birth_date, 'YYYYMMDD'))`,
        js: (l, r) => hamming1(l.birthDate!.replace(/-/g, ''), r.birthDate!.replace(/-/g, '')),
      },
      {
        label: 'same year and month',
        sql: `date_trunc('month', l.birth_date) = date_trunc('month', r.birth_date)`,
        js: (l, r) => l.birthDate!.slice(0, 7) === r.birthDate!.slice(0, 7),
      },
      {
        label: 'same year',
        sql: 'extract(year from l.birth_date) = extract(year from r.birth_date)',
        js: (l, r) => l.birthDate!.slice(0, 4) === r.birthDate!.slice(0, 4),
      },
      ELSE,
    ],
  },
  {
    name: 'sex',
    nullSql: 'l.sex IS NULL OR r.sex IS NULL',
    isNull: (l, r) => l.sex === null || r.sex === null,
    levels: [{ label: 'same', sql: 'l.sex = r.sex', js: (l, r) => l.sex === r.sex }, ELSE],
  },
  {
    name: 'phone',
    nullSql: 'l.phone_bi IS NULL OR r.phone_bi IS NULL',
    isNull: (l, r) => l.phoneBi === null || r.phoneBi === null,
    levels: [{ label: 'exact', sql: 'l.phone_bi = r.phone_bi', js: (l, r) => l.phoneBi === r.phoneBi }, ELSE],
  },
  {
    name: 'addr',
    nullSql: 'l.township IS NULL OR r.township IS NULL',
    isNull: (l, r) => l.township === null || r.township === null,
    levels: [
      { label: 'same village', sql: 'l.village = r.village', js: (l, r) => l.village !== null && l.village === r.village },
      { label: 'same township', sql: 'l.township = r.township', js: (l, r) => l.township === r.township },
      ELSE,
    ],
  },
  {
    name: 'passport',
    nullSql: 'l.passport_bi IS NULL OR r.passport_bi IS NULL',
    isNull: (l, r) => l.passportBi === null || r.passportBi === null,
    levels: [
      { label: 'exact', sql: 'l.passport_bi = r.passport_bi', js: (l, r) => l.passportBi === r.passportBi },
      { label: 'one character', sql: SAME_POSITION('passport_near', 20), js: (l, r) => samePosition(l.passportNear!, r.passportNear!) },
      ELSE,
    ],
  },
];

/** γ of one comparison for a pair: -1 null, else the index of the first level that holds. */
export function gammaOf(c: Comparison, l: F, r: F): number {
  if (c.isNull(l, r)) return -1;
  for (let i = 0; i < c.levels.length; i++) if (c.levels[i].js(l, r)) return i;
  return c.levels.length - 1;
}

/** The comparison vector of a pair, in COMPARISONS order. */
export function comparisonVector(l: F, r: F): number[] {
  return COMPARISONS.map((c) => gammaOf(c, l, r));
}

/** SQL expression computing γ of one comparison over aliases `l` and `r`. */
export function gammaSql(c: Comparison): string {
  const whens = c.levels
    .slice(0, -1)
    .map((lv, i) => `WHEN ${lv.sql} THEN ${i}`)
    .join(' ');
  return `(CASE WHEN ${c.nullSql} THEN -1 ${whens} ELSE ${c.levels.length - 1} END)::smallint`;
}

/** Column list `g_rid, g_name, …` of the batch work table, in COMPARISONS order. */
export const GAMMA_COLUMNS = COMPARISONS.map((c) => `g_${c.name}`);

/** The record columns the SQL comparisons read, in RecordFeatures terms (for the agreement test and queries). */
export const RECORD_COLUMNS =
  'patient_key, institution_id, local_system, local_value, resident_id, resident_id_valid, name, name_kind, name_pinyin, ' +
  'name_initials, mother_name, birth_date, sex, phone, village, township, passport, identifiers, rid_bi, rid_near, rid_swaps, rid_dob, ' +
  'phone_bi, passport_bi, passport_near, identifier_bis';
