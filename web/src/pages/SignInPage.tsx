import { type FormEvent, useEffect, useState } from 'react';
import type { Me } from '../../../src/record/summary-types.ts';
import type { Api, DemoUser } from '../api/client.ts';
import { useI18n } from '../i18n/I18nProvider.tsx';
import { Brand } from '../components/Brand.tsx';
import type { MessageKey } from '../i18n/translate.ts';
import { errorMessage } from '../lib/use-async.ts';
import { userFromJwt, type Session } from '../lib/session.ts';

const DEMO_ROLES: Array<Me['role']> = ['clinician', 'operator', 'resident', 'auditor', 'manager'];

export function SignInPage({ api, fixtures, onSignedIn }: { api: Api; fixtures: boolean; onSignedIn(s: Session): void }) {
  const { t, lang, setLang } = useI18n();
  const [mode, setMode] = useState<'demo' | 'token'>('demo');
  const [role, setRole] = useState<Me['role']>('clinician');
  const [users, setUsers] = useState<DemoUser[]>([]);
  const [institution, setInstitution] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.demoUsers().then(setUsers, () => setUsers([]));
  }, [api]);
  const institutions = users.filter((u) => u.role === role && u.institution).map((u) => u.institution!);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (mode === 'demo') {
        const r = await api.demoLogin(role, institution || undefined);
        onSignedIn({ token: r.token, user: r.user });
      } else {
        const tok = token.trim();
        const user = await api.me(tok).catch(() => userFromJwt(tok));
        if (!user) throw new Error(t('state.sessionExpired'));
        onSignedIn({ token: tok, user });
      }
    } catch (err) {
      setError(t('login.failed', { message: errorMessage(err) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login-page">
      <div className="login-hero">
        <Brand big />
        <p className="login-lead">{t('login.lead')}</p>
        <ul className="login-points">
          <li>{t('nav.record')}</li>
          <li>{t('nav.overview')}</li>
          <li>{t('nav.audit')}</li>
        </ul>
      </div>
      <form className="login-card" onSubmit={submit}>
        <div className="login-card-head">
          <h1>{t('login.title')}</h1>
          <button type="button" className="btn btn-link" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>{t('top.lang')}</button>
        </div>
        {fixtures && <div className="fixtures-banner inline">{t('app.fixturesBanner')}</div>}
        <div className="seg">
          <button type="button" className={mode === 'demo' ? 'active' : ''} onClick={() => setMode('demo')}>{t('login.demoTab')}</button>
          <button type="button" className={mode === 'token' ? 'active' : ''} onClick={() => setMode('token')}>{t('login.tokenTab')}</button>
        </div>
        {mode === 'demo' ? (
          <>
            <div className="field-label">{t('login.chooseRole')}</div>
            <div className="role-grid">
              {DEMO_ROLES.map((r) => (
                <label key={r} className={role === r ? 'role-option active' : 'role-option'}>
                  <input type="radio" name="role" value={r} checked={role === r} onChange={() => { setRole(r); setInstitution(''); }} />
                  <span className="role-option-name">{t(`role.${r}`)}</span>
                  <span className="role-option-desc">{t(`login.roleDesc.${r}` as MessageKey)}</span>
                </label>
              ))}
            </div>
            {institutions.length > 0 && (
              <label className="field">
                <span className="field-label">{t('login.institution')}</span>
                <select value={institution} onChange={(e) => setInstitution(e.target.value)}>
                  <option value="">{t('login.anyInstitution')}</option>
                  {institutions.map((i) => <option key={i.id} value={i.id}>{i.name}</option>)}
                </select>
              </label>
            )}
            <p className="muted small">{t('login.demoOnly')}</p>
          </>
        ) : (
          <label className="field">
            <span className="field-label">{t('login.token')}</span>
            <textarea rows={4} value={token} onChange={(e) => setToken(e.target.value)} placeholder={t('login.tokenHint')} spellCheck={false} />
          </label>
        )}
        {error && <div className="alert alert-error">{error}</div>}
        <button className="btn btn-primary btn-block" disabled={busy || (mode === 'token' && !token.trim())}>{t('login.signIn')}</button>
        <p className="login-notice">{t('login.notice')}</p>
      </form>
    </div>
  );
}
