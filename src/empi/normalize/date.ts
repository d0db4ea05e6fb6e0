/**
 * Birth dates as registered (ISO 8601, compact YYYYMMDD, slashes, dots, 年月日, with or without a time), to
 * 'YYYY-MM-DD'. Invalid calendar dates (2月30日) and years outside 1880..2100 are rejected.
 */
export function normalizeBirthDate(raw: string | undefined | null): string | undefined {
  if (!raw) return undefined;
  const s = raw.normalize('NFKC').trim();
  const m =
    /^(\d{4})(\d{2})(\d{2})(?:\D|$)/.exec(s) ??
    /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})/.exec(s);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1880 || y > 2100 || mo < 1 || mo > 12 || d < 1) return undefined;
  const dt = new Date(Date.UTC(y, mo - 1, d));
  if (dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return undefined;
  return `${m[1]}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}
