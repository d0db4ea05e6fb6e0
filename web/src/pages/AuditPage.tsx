import { type FormEvent, useState } from 'react';
import type { Me } from '../../../src/record/summary-types.ts';
import type { Api, AuditQuery } from '../api/client.ts';
import { ErrorBox, Loading } from '../components/States.tsx';
import { useI18n } from '../i18n/I18nProvider.tsx';
import { formatDateTime } from '../lib/dates.ts';
import { routeHref } from '../lib/route.ts';
import { errorMessage, useAsync } from '../lib/use-async.ts';

/** Who read a record when: a search for auditors and operators; for a resident, the reads of their own record. */
export function AuditPage({ api, user, patient }: { api: Api; user: Me; patient?: string }) {
  const { t, tx } = useI18n();
  const mine = user.role === 'resident';
  const [form, setForm] = useState<AuditQuery>({ patient: mine ? user.personId : patient });
  const [query, setQuery] = useState<AuditQuery>(form);
  const [state, reload] = useAsync(() => api.audit(query), [api, query]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setQuery({ ...form, patient: mine ? user.personId : form.patient?.trim() || undefined, agent: form.agent?.trim() || undefined });
  };
  return (
    <div className="page">
      <div className="page-head">
        <h1>{mine ? t('audit.mineTitle') : t('audit.title')}</h1>
        <p className="muted">{mine ? t('audit.mineLead') : t('audit.lead')}</p>
      </div>
      {!mine && (
        <form className="filters card" onSubmit={submit}>
          <label><span>{t('audit.patient')}</span><input value={form.patient ?? ''} onChange={(e) => setForm({ ...form, patient: e.target.value })} /></label>
          <label><span>{t('audit.agent')}</span><input value={form.agent ?? ''} onChange={(e) => setForm({ ...form, agent: e.target.value })} /></label>
          <label><span>{t('audit.date')}</span><input type="date" value={form.date ?? ''} onChange={(e) => setForm({ ...form, date: e.target.value || undefined })} /></label>
          <label>
            <span>{t('audit.outcome')}</span>
            <select value={form.outcome ?? ''} onChange={(e) => setForm({ ...form, outcome: (e.target.value || undefined) as AuditQuery['outcome'] })}>
              <option value="">{t('audit.outcome.all')}</option>
              <option value="success">{t('audit.outcome.success')}</option>
              <option value="denied">{t('audit.outcome.denied')}</option>
              <option value="error">{t('audit.outcome.error')}</option>
            </select>
          </label>
          <button className="btn btn-primary">{t('audit.search')}</button>
        </form>
      )}
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorBox message={errorMessage(state.error)} onRetry={reload} />}
      {state.status === 'ok' && (
        <section className="card">
          <div className="card-head"><h2>{t('audit.count', { count: state.data.length })}</h2></div>
          <table className="grid">
            <thead>
              <tr>
                <th>{t('audit.col.time')}</th>
                <th>{t('audit.col.agent')}</th>
                <th>{t('audit.col.role')}</th>
                <th>{t('audit.col.institution')}</th>
                {!mine && <th>{t('audit.col.patient')}</th>}
                <th>{t('audit.col.purpose')}</th>
                <th>{t('audit.col.action')}</th>
                <th>{t('audit.col.outcome')}</th>
              </tr>
            </thead>
            <tbody>
              {state.data.map((r) => (
                <tr key={r.id} className={r.breakGlass ? 'row-btg' : ''}>
                  <td className="mono">{formatDateTime(r.recorded)}</td>
                  <td className="strong">{r.agentName}{r.agentId && <span className="mono muted"> {r.agentId}</span>}</td>
                  <td>{r.role ? tx(`role.${r.role}`, r.role) : '—'}</td>
                  <td>{r.institution ?? '—'}</td>
                  {!mine && (
                    <td>{r.patientRef ? <a href={routeHref({ page: 'record', personId: r.patientRef.replace(/^Patient\//, '') })}>{r.patientName ?? r.patientRef}</a> : '—'}</td>
                  )}
                  <td>
                    {r.purpose ? tx(`purpose.${r.purpose}`, r.purpose) : '—'}
                    {r.breakGlass && <span className="tag tag-danger">{t('audit.btg')}</span>}
                  </td>
                  <td>{r.action ? tx(`action.${r.action}`, r.action) : '—'}</td>
                  <td><span className={`outcome outcome-${r.outcome}`}>{t(`audit.outcome.${r.outcome}`)}</span></td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
