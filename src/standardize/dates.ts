/**
 * Dates and times as Chinese institution systems write them (2024-03-05, 2024/3/5, 20240305, 2024年3月5日,
 * 2024-03-05 08:30[:00], HL7 v2 DTM 202403050830[00][+0800]) → FHIR R4 `date` / `dateTime`. Local times without a
 * zone are China Standard Time (+08:00), which is what every county system means.
 */
export interface ParsedDate {
  /** FHIR date, YYYY-MM-DD. */
  date: string;
  /** FHIR dateTime with zone when a time was given; otherwise equal to `date`. */
  dateTime: string;
  /** Epoch ms of the instant (midnight +08:00 for a bare date), for comparisons. */
  ms: number;
}

const PATTERNS: RegExp[] = [
  // 2024-03-05[ T08:30[:00[.sss]]][zone]
  /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T](\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?)?秒?)?\s*(Z|[+-]\d{2}:?\d{2})?$/,
  // HL7 DTM / compact: 20240305[0830[00[.ssss]]][+0800]
  /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(?:(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{4})?$/,
];

/** Parses one date/time string, or returns undefined when it is not a real calendar date/time. */
export function parseDate(raw: string | undefined): ParsedDate | undefined {
  const s = raw?.normalize('NFKC').trim();
  if (!s) return undefined;
  for (const re of PATTERNS) {
    const m = re.exec(s);
    if (!m) continue;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const hasTime = m[4] !== undefined;
    const [h, mi, sec] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return undefined;
    const check = new Date(Date.UTC(y, mo - 1, d));
    if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
    const zone = m[7] === undefined || m[7] === 'Z' ? (m[7] === 'Z' ? 'Z' : '+08:00') : m[7].replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
    const p2 = (n: number) => String(n).padStart(2, '0');
    const date = `${y}-${p2(mo)}-${p2(d)}`;
    const dateTime = hasTime ? `${date}T${p2(h)}:${p2(mi)}:${p2(sec)}${zone}` : date;
    const ms = Date.parse(hasTime ? dateTime : `${date}T00:00:00+08:00`);
    return { date, dateTime, ms };
  }
  return undefined;
}

export type DateProblem = { code: 'invalid-date' | 'implausible-date'; detail: string };

/**
 * Checks a date for plausibility: a real date, not before 1900, not after `now` (+1 day of clock skew), not before
 * the birth date when one is known. Returns the parsed date or the problem.
 */
export function checkDate(
  raw: string | undefined,
  what: string,
  now: Date,
  birthDate?: string,
): ParsedDate | DateProblem {
  const p = parseDate(raw);
  if (!p) return { code: 'invalid-date', detail: `${what} '${raw}' is not a date` };
  if (p.date < '1900-01-01') return { code: 'implausible-date', detail: `${what} ${p.date} is before 1900` };
  if (p.ms > now.getTime() + 86_400_000) return { code: 'implausible-date', detail: `${what} ${p.date} is in the future` };
  // Day precision: a visit on the day of birth is fine.
  if (birthDate && p.date < birthDate) {
    return { code: 'implausible-date', detail: `${what} ${p.date} is before the patient's birth` };
  }
  return p;
}
