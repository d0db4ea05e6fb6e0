/**
 * From a scored pair to an outcome: link, review or no link. Deterministic rules first where they are safe, then the
 * weight thresholds, then caps that keep a pair out of an automatic link when one strong fact says "different person"
 * — a false link shows one person's record to another person's doctor, so doubt goes to a human, never to a link.
 */
import { COMPARISONS } from './comparisons.ts';
import type { RecordFeatures } from './features.ts';
import type { PairScore } from './model.ts';

export interface Thresholds {
  /** Match weight (log2 odds) at or above which a pair links automatically. */
  link: number;
  /** At or above which (and below `link`) a pair goes to the review queue. */
  review: number;
}

/** Match weight ≥ 11 (P(match) ≈ 0.9995) links, ≥ 4 (P ≈ 0.94) goes to review. Configurable per call. */
export const DEFAULT_THRESHOLDS: Thresholds = { link: 11, review: 4 };

export type Outcome = 'link' | 'review' | 'no-link';

export interface Decision {
  outcome: Outcome;
  /** Why, when not plain thresholding: 'rule:resident-id', 'cap:…'. */
  reason?: string;
}

const idx = (name: string) => COMPARISONS.findIndex((c) => c.name === name);
const RID = idx('rid');
const NAME = idx('name');
const DOB = idx('dob');
const SEX = idx('sex');
const PASSPORT = idx('passport');
const PHONE = idx('phone');
const ADDR = idx('addr');
const NAME_ELSE = COMPARISONS[NAME].levels.length - 1;
const DOB_ELSE = COMPARISONS[DOB].levels.length - 1;
const RID_ELSE = COMPARISONS[RID].levels.length - 1;
const PASSPORT_ELSE = COMPARISONS[PASSPORT].levels.length - 1;

/** The strongest "different person" fact of a pair, if any; such a pair may at most be reviewed. */
export function capReason(l: RecordFeatures, r: RecordFeatures, g: number[]): string | undefined {
  // A newborn placeholder ("张丽之子", under the mother's ID) may be the child's later named record — only when born
  // the same day and sharing the family's phone or village; never the mother (other birth date).
  if ((l.nameKind === 'newborn') !== (r.nameKind === 'newborn') && (g[DOB] !== 0 || (g[PHONE] !== 0 && g[ADDR] !== 0))) {
    return 'cap:newborn-vs-registered-person';
  }
  if (l.nameKind === 'unknown' || r.nameKind === 'unknown') return 'cap:unknown-patient';
  if (g[RID] === RID_ELSE && l.residentIdValid && r.residentIdValid) return 'cap:different-valid-resident-ids';
  if (g[PASSPORT] === PASSPORT_ELSE) return 'cap:different-passports';
  if (g[SEX] === 1) return 'cap:different-sex';
  if (g[DOB] === DOB_ELSE && g[RID] !== 0) return 'cap:different-birth-dates';
  if (g[NAME] === NAME_ELSE && g[RID] !== 0 && g[PASSPORT] !== 0) return 'cap:different-names';
  return undefined;
}

/** Same valid resident ID, a compatible name and the same birth date (or day-month swap): the same person. */
export function ruleLink(l: RecordFeatures, r: RecordFeatures, g: number[]): boolean {
  return (
    g[RID] === 0 &&
    l.residentIdValid &&
    r.residentIdValid &&
    l.nameKind !== 'newborn' &&
    r.nameKind !== 'newborn' &&
    g[NAME] >= 0 &&
    g[NAME] < NAME_ELSE &&
    (g[DOB] === 0 || g[DOB] === 1) &&
    g[SEX] !== 1
  );
}

/** Decides one pair. */
export function decide(l: RecordFeatures, r: RecordFeatures, s: PairScore, t: Thresholds = DEFAULT_THRESHOLDS): Decision {
  if (ruleLink(l, r, s.gammas)) return { outcome: 'link', reason: 'rule:resident-id+name+birth-date' };
  const cap = capReason(l, r, s.gammas);
  if (s.weight >= t.link) return cap ? { outcome: 'review', reason: cap } : { outcome: 'link' };
  if (s.weight >= t.review) return { outcome: 'review', ...(cap ? { reason: cap } : {}) };
  return { outcome: 'no-link' };
}

/** SQL twin of `capReason` (true when capped) over records `l`, `r` and γ columns of `p`. */
export function capSql(): string {
  return `((((l.name_kind = 'newborn') <> (r.name_kind = 'newborn')) AND (p.g_dob IS DISTINCT FROM 0 OR (p.g_phone IS DISTINCT FROM 0 AND p.g_addr IS DISTINCT FROM 0)))
    OR l.name_kind = 'unknown' OR r.name_kind = 'unknown'
    OR (p.g_rid = ${RID_ELSE} AND l.resident_id_valid AND r.resident_id_valid)
    OR p.g_passport = ${PASSPORT_ELSE}
    OR p.g_sex = 1
    OR (p.g_dob = ${DOB_ELSE} AND p.g_rid <> 0)
    OR (p.g_name = ${NAME_ELSE} AND p.g_rid <> 0 AND p.g_passport <> 0))`;
}

/** SQL twin of `ruleLink`. */
export function ruleSql(): string {
  return `(p.g_rid = 0 AND l.resident_id_valid AND r.resident_id_valid
    AND l.name_kind IS DISTINCT FROM 'newborn' AND r.name_kind IS DISTINCT FROM 'newborn'
    AND p.g_name >= 0 AND p.g_name < ${NAME_ELSE} AND p.g_dob IN (0, 1) AND p.g_sex <> 1)`;
}
