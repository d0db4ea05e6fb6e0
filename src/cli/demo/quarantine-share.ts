/**
 * What the demo says about its quarantine (issue 17): the share of received records held, by reason, what each
 * reason means and the command that works it. Read from the operator API (`GET /admin/quarantine` summary).
 */
const MEANING: Record<string, string> = {
  'unmapped-code': 'local codes (the institution\'s own) waiting for an operator\'s map — standard codes (LOINC, SNOMED CT, ICD-10, RxNorm, CVX …) are never held; `healthbrain terminology unmapped` lists them with suggestions, `healthbrain terminology confirm --institution I --local-system S --local-code C --code X` maps one and releases its records',
  'unknown-patient': 'records of patients their institution has not registered (yet): released when the patient arrives',
  'value-out-of-range': 'physiologically impossible values: kept for review (`healthbrain quarantine --reason value-out-of-range`)',
};

export async function quarantineShare(
  api: { request<T>(method: string, path: string): Promise<T> }, totals: { received: number; quarantined: number },
): Promise<string[]> {
  if (!totals.quarantined) return ['quarantine: nothing held'];
  const { summary } = await api.request<{ summary: Array<{ reason: string; units: number }> }>('GET', '/admin/quarantine?limit=1');
  const byReason = new Map<string, number>();
  for (const s of summary) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + s.units);
  const share = ((100 * totals.quarantined) / Math.max(1, totals.received)).toFixed(1);
  return [
    `quarantine share: ${share} % of ${totals.received.toLocaleString('en-US')} received records (${totals.quarantined.toLocaleString('en-US')}), by reason:`,
    ...[...byReason].sort((a, b) => b[1] - a[1]).map(([reason, units]) => `  ${reason}: ${units.toLocaleString('en-US')} unit(s)${MEANING[reason] ? ` — ${MEANING[reason]}` : ''}`),
  ];
}
