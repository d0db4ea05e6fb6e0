/** Day arithmetic on integer day numbers (days since 1970-01-01), so the generator never touches the clock. */
const MS = 86_400_000;

export function dayOf(iso: string): number {
  return Math.round(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / MS);
}

export function isoDay(day: number): string {
  return new Date(day * MS).toISOString().slice(0, 10);
}

/** [year, month 1-12, day 1-31]. */
export function ymd(day: number): [number, number, number] {
  const d = new Date(day * MS);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

export const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** yyyyMMdd. */
export function compactDay(day: number): string {
  const [y, m, d] = ymd(day);
  return `${y}${pad2(m)}${pad2(d)}`;
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
