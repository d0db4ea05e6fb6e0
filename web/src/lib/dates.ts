/** Full years between an ISO birth date and `today` (both YYYY-MM-DD…), as a Chinese record states age (周岁). */
export function ageOn(birthDate: string | undefined, today: Date): number | undefined {
  if (!birthDate) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(birthDate);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = today.getUTCFullYear() - y;
  const beforeBirthday = today.getUTCMonth() + 1 < mo || (today.getUTCMonth() + 1 === mo && today.getUTCDate() < d);
  if (beforeBirthday) age -= 1;
  return age;
}

/** `2026-03-05` from an ISO date or date-time. */
export function formatDate(iso: string | undefined): string {
  return iso ? iso.slice(0, 10) : '';
}

/** `2026-03-05 14:20` from an ISO date-time (shown in the viewer's time zone, China Standard Time). */
export function formatDateTime(iso: string | undefined, timeZone = 'Asia/Shanghai'): string {
  if (!iso) return '';
  if (iso.length <= 10) return iso;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}
