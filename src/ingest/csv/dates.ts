/**
 * Date formats seen in core-table files, detected per column from a sample of its values. Each pattern captures
 * year, month, day (in its own order) and an optional time; `order` tells which group is which.
 */
interface DateFormat {
  name: string;
  re: RegExp;
  order: 'ymd' | 'dmy' | 'mdy';
}

const TIME = String.raw`(?:[ T]?(\d{1,2}):?(\d{2})(?::?(\d{2}))?(?:\.\d+)?)?`;
export const DATE_FORMATS: readonly DateFormat[] = [
  { name: 'yyyy-MM-dd', re: new RegExp(String.raw`^(\d{4})-(\d{1,2})-(\d{1,2})` + TIME + '$'), order: 'ymd' },
  { name: 'yyyy/M/d', re: new RegExp(String.raw`^(\d{4})/(\d{1,2})/(\d{1,2})` + TIME + '$'), order: 'ymd' },
  { name: 'yyyy.M.d', re: new RegExp(String.raw`^(\d{4})\.(\d{1,2})\.(\d{1,2})` + TIME + '$'), order: 'ymd' },
  { name: 'yyyyMMdd', re: new RegExp(String.raw`^(\d{4})(\d{2})(\d{2})` + TIME + '$'), order: 'ymd' },
  { name: 'yyyy年M月d日', re: new RegExp(String.raw`^(\d{4})年(\d{1,2})月(\d{1,2})日` + TIME + '$'), order: 'ymd' },
  { name: 'dd/MM/yyyy', re: new RegExp(String.raw`^(\d{1,2})/(\d{1,2})/(\d{4})` + TIME + '$'), order: 'dmy' },
  { name: 'MM/dd/yyyy', re: new RegExp(String.raw`^(\d{1,2})/(\d{1,2})/(\d{4})` + TIME + '$'), order: 'mdy' },
];

const pad = (s: string) => s.padStart(2, '0');

/** Parses `value` in the named format to ISO 8601 ('YYYY-MM-DD' or 'YYYY-MM-DDTHH:mm:ss'); undefined if it does not fit. */
export function parseDate(value: string, format: string): string | undefined {
  const f = DATE_FORMATS.find((d) => d.name === format);
  const m = f?.re.exec(value.trim());
  if (!f || !m) return undefined;
  const [a, b, c] = [m[1], m[2], m[3]];
  const [y, mo, d] = f.order === 'ymd' ? [a, b, c] : f.order === 'dmy' ? [c, b, a] : [c, a, b];
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(Number(y), month, 0)).getUTCDate()) return undefined;
  const date = `${y}-${pad(mo)}-${pad(d)}`;
  if (m[4] === undefined) return date;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59) return undefined;
  return `${date}T${pad(m[4])}:${m[5]}:${m[6] ?? '00'}`;
}

/**
 * The format that parses the most of a column's sample values (ties go to the earlier, year-first format; day-first vs
 * month-first is decided by values that only one of them can read). Undefined when no format reads any value.
 */
export function detectDateFormat(values: string[]): string | undefined {
  const sample = values.map((v) => v.trim()).filter((v) => v);
  let best: string | undefined;
  let bestHits = 0;
  for (const f of DATE_FORMATS) {
    const hits = sample.filter((v) => parseDate(v, f.name) !== undefined).length;
    if (hits > bestHits) {
      best = f.name;
      bestHits = hits;
    }
  }
  return best;
}
