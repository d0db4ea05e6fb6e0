/** Feed status from the time since an institution's last accepted message: under 6 h fine, under 48 h late, else silent. */
export function feedStatus(lastReceived: string | undefined, now: Date): 'ok' | 'late' | 'silent' {
  if (!lastReceived) return 'silent';
  const hours = (now.getTime() - new Date(lastReceived).getTime()) / 3_600_000;
  return hours < 6 ? 'ok' : hours < 48 ? 'late' : 'silent';
}
