import type { AuditEvent, Bundle } from '@medplum/fhirtypes';

/** One row of the audit view, read from a FHIR AuditEvent as docs/RECORD-API.md describes. */
export interface AuditRow {
  id: string;
  recorded: string;
  agentName: string;
  agentId?: string;
  role?: string;
  institution?: string;
  patientRef?: string;
  patientName?: string;
  purpose?: string;
  action?: string;
  outcome: 'success' | 'denied' | 'error';
  breakGlass: boolean;
}

/** Maps an AuditEvent to a row: the requestor agent is the reader; outcome 0 is success, 4 denied, 8+ failure. */
export function auditRow(ev: AuditEvent): AuditRow {
  const agent = ev.agent?.find((a) => a.requestor) ?? ev.agent?.[0];
  const patient = ev.entity?.find((e) => e.what?.reference?.startsWith('Patient/'));
  const breakGlass =
    ev.meta?.security?.some((c) => c.code === 'BTG') === true ||
    ev.purposeOfEvent?.some((p) => p.coding?.some((c) => c.code === 'ETREAT' || c.code === 'BTG')) === true;
  return {
    id: ev.id ?? '',
    recorded: ev.recorded ?? '',
    agentName: agent?.who?.display ?? agent?.who?.identifier?.value ?? agent?.who?.reference ?? '—',
    agentId: agent?.who?.identifier?.value,
    role: agent?.role?.[0]?.coding?.[0]?.code,
    institution: agent?.location?.display,
    patientRef: patient?.what?.reference,
    patientName: patient?.what?.display,
    purpose: ev.purposeOfEvent?.[0]?.coding?.[0]?.code,
    action: ev.action,
    outcome: ev.outcome === '0' || ev.outcome === undefined ? 'success' : ev.outcome === '4' ? 'denied' : 'error',
    breakGlass,
  };
}

/** Rows of a search-set Bundle of AuditEvents, newest first. */
export function auditRows(bundle: Bundle): AuditRow[] {
  return (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is AuditEvent => r?.resourceType === 'AuditEvent')
    .map(auditRow)
    .sort((a, b) => b.recorded.localeCompare(a.recorded));
}
