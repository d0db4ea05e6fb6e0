import { type FormEvent, useState } from 'react';
import type { PatientSearchBy, PatientSearchResult } from '../../../src/record/summary-types.ts';
import type { Api } from '../api/client.ts';
import { InstitutionBadge } from '../components/InstitutionBadge.tsx';
import { ErrorBox, Loading } from '../components/States.tsx';
import { useI18n } from '../i18n/I18nProvider.tsx';
import { ageOn, formatDate } from '../lib/dates.ts';
import { maskCard, maskPhone, maskResidentId } from '../lib/mask.ts';
import { routeHref } from '../lib/route.ts';
import { errorMessage } from '../lib/use-async.ts';

const BY: PatientSearchBy[] = ['any', 'residentId', 'name', 'healthCard', 'mrn'];

export function SearchPage({ api, initialQuery }: { api: Api; initialQuery?: string }) {
  const { t } = useI18n();
  const [q, setQ] = useState(initialQuery ?? '');
  const [by, setBy] = useState<PatientSearchBy>('any');
  const [institution, setInstitution] = useState('');
  const [state, setState] = useState<{ status: 'idle' } | { status: 'loading' } | { status: 'ok'; data: PatientSearchResult } | { status: 'error'; message: string }>({ status: 'idle' });

  async function run(e?: FormEvent) {
    e?.preventDefault();
    setState({ status: 'loading' });
    history.replaceState(null, '', routeHref({ page: 'search', q }));
    try {
      setState({ status: 'ok', data: await api.searchPatients(q, by, by === 'mrn' ? institution : undefined) });
    } catch (err) {
      setState({ status: 'error', message: errorMessage(err) });
    }
  }

  const today = new Date();
  return (
    <div className="page">
      <div className="page-head">
        <h1>{t('search.title')}</h1>
        <p className="muted">{t('search.hint')}</p>
      </div>
      <form className="search-bar card" onSubmit={run}>
        <select aria-label={t('search.by')} value={by} onChange={(e) => setBy(e.target.value as PatientSearchBy)}>
          {BY.map((b) => <option key={b} value={b}>{t(`search.by.${b}`)}</option>)}
        </select>
        {by === 'mrn' && (
          <input className="inst-input" aria-label={t('search.institution')} placeholder={t('search.institution')} value={institution} onChange={(e) => setInstitution(e.target.value)} />
        )}
        <input className="search-input" name="q" autoFocus value={q} onChange={(e) => setQ(e.target.value)} placeholder={t('search.placeholder')} />
        <button className="btn btn-primary">{t('search.submit')}</button>
      </form>
      {state.status === 'loading' && <Loading />}
      {state.status === 'error' && <ErrorBox message={state.message} onRetry={() => void run()} />}
      {state.status === 'ok' && (
        <div className="card">
          <div className="card-head">
            <h2>{t('search.results', { total: state.data.total })}</h2>
          </div>
          {state.data.hits.length === 0 ? (
            <div className="state state-empty">{t('search.none')}</div>
          ) : (
            <table className="grid">
              <thead>
                <tr>
                  <th>{t('search.col.name')}</th>
                  <th>{t('search.col.sex')}</th>
                  <th>{t('search.col.age')}</th>
                  <th>{t('search.col.birthDate')}</th>
                  <th>{t('search.col.residentId')}</th>
                  <th>{t('search.col.healthCard')}</th>
                  <th>{t('search.col.phone')}</th>
                  <th>{t('search.col.institutions')}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {state.data.hits.map((h) => (
                  <tr key={h.personId} className="clickable" onClick={() => (location.hash = routeHref({ page: 'record', personId: h.personId }))}>
                    <td className="strong">{h.name}</td>
                    <td>{t(`sex.${h.sex}`)}</td>
                    <td className="num">{ageOn(h.birthDate, today) ?? '—'}</td>
                    <td className="mono">{formatDate(h.birthDate)}</td>
                    <td className="mono">{maskResidentId(h.residentIdMasked)}</td>
                    <td className="mono">{maskCard(h.healthCardMasked) || '—'}</td>
                    <td className="mono">{maskPhone(h.phoneMasked)}</td>
                    <td><div className="badges">{h.institutions.map((i) => <InstitutionBadge key={i.id} institution={i} compact />)}</div></td>
                    <td><a className="btn btn-small" href={routeHref({ page: 'record', personId: h.personId })} onClick={(e) => e.stopPropagation()}>{t('search.open')}</a></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </div>
  );
}
