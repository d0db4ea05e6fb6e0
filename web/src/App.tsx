import { useEffect, useState } from 'react';
import type { Api } from './api/client.ts';
import { Layout } from './components/Layout.tsx';
import { useI18n } from './i18n/I18nProvider.tsx';
import { AuditPage } from './pages/AuditPage.tsx';
import { OverviewPage } from './pages/OverviewPage.tsx';
import { RecordPage } from './pages/RecordPage.tsx';
import { SearchPage } from './pages/SearchPage.tsx';
import { SignInPage } from './pages/SignInPage.tsx';
import { allowedPages, homeRoute, parseRoute, type Route, routeHref } from './lib/route.ts';
import { type Session, saveSession } from './lib/session.ts';

function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function App({ api, fixtures, initialSession }: { api: Api; fixtures: boolean; initialSession?: Session }) {
  const { t } = useI18n();
  const [session, setSession] = useState(initialSession);
  const route = useHashRoute();

  function signIn(s: Session) {
    saveSession(sessionStorage, s);
    setSession(s);
    location.hash = routeHref(homeRoute(s.user));
  }
  function signOut() {
    saveSession(sessionStorage, undefined);
    setSession(undefined);
    location.hash = routeHref({ page: 'login' });
  }

  useEffect(() => {
    if (session && route.page === 'login') location.hash = routeHref(homeRoute(session.user));
  }, [session, route.page]);

  if (!session || route.page === 'login') return <SignInPage api={api} fixtures={fixtures} onSignedIn={signIn} />;

  const allowed = allowedPages(session.user.role).includes(route.page);
  return (
    <Layout user={session.user} route={route} fixtures={fixtures} onSignOut={signOut}>
      {!allowed && <div className="state state-error">{t('state.noAccessPage')}</div>}
      {allowed && route.page === 'search' && <SearchPage api={api} initialQuery={route.q} />}
      {allowed && route.page === 'record' && <RecordPage key={route.personId} api={api} personId={route.personId} />}
      {allowed && route.page === 'overview' && <OverviewPage api={api} />}
      {allowed && route.page === 'audit' && <AuditPage api={api} user={session.user} patient={route.patient} />}
    </Layout>
  );
}
