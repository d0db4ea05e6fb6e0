/** Day arithmetic on integer day numbers (days since 1970-01-01), so the generator never touches the clock. */
const MS = 86_400_000;

export function dayOf(iso: string): number {
  return Math.round(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / MS);
}

// Day numbers from 1880 to 2100, formatted once each: formatting dates is the generator's hottest path.
const BASE = -32872;
const isoCache: string[] = [];

export function isoDay(day: number): string {
  const i = day - BASE;
  const hit = isoCache[i];
  if (hit !== undefined) return hit;
  const s = new Date(day * MS).toISOString().slice(0, 10);
  if (i >= 0 && i < 80_500) isoCache[i] = s;
  return s;
}

/** [year, month 1-12, day 1-31]. */
export function ymd(day: number): [number, number, number] {
  const s = isoDay(day);
  return [Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10))];
}

export const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** yyyyMMdd. */
export function compactDay(day: number): string {
  const s = isoDay(day);
  return s.slice(0, 4) + s.slice(5, 7) + s.slice(8, 10);
}

/** Minutes after midnight to HHmmss. */
export function hms(minutes: number): string {
  return `${pad2(Math.floor(minutes / 60) % 24)}${pad2(minutes % 60)}00`;
}

/** Age in whole years on `day`. */
export function ageOn(birthDay: number, day: number): number {
  const [by, bm, bd] = ymd(birthDay);
  const [y, m, d] = ymd(day);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

/** ISO 8601 week label of a day, e.g. 2025-W03. */
export function isoWeek(day: number): string {
  const d = new Date(day * MS);
  const dow = (d.getUTCDay() + 6) % 7;
  const thursday = new Date((day - dow + 3) * MS);
  const y = thursday.getUTCFullYear();
  const jan1 = Date.UTC(y, 0, 1) / MS;
  const week = Math.floor((day - dow + 3 - jan1) / 7) + 1;
  return `${y}-W${pad2(week)}`;
}
