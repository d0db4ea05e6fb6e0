import type { ReactNode } from 'react';
import type { Me } from '../../../src/record/summary-types.ts';
import { useI18n } from '../i18n/I18nProvider.tsx';
import { Brand } from './Brand.tsx';
import type { MessageKey } from '../i18n/translate.ts';
import { allowedPages, type Route, routeHref } from '../lib/route.ts';

interface NavItem {
  page: Route['page'];
  label: MessageKey;
  href: string;
  icon: string;
}

function navItems(user: Me): Array<{ section: MessageKey; items: NavItem[] }> {
  const allowed = new Set(allowedPages(user.role));
  if (user.role === 'resident') {
    return [{
      section: 'nav.section.resident',
      items: [
        { page: 'record', label: 'nav.myRecord', href: routeHref({ page: 'record', personId: user.personId ?? '' }), icon: '▤' },
        { page: 'audit', label: 'nav.whoViewed', href: routeHref({ page: 'audit' }), icon: '◉' },
      ],
    }];
  }
  const sections: Array<{ section: MessageKey; items: NavItem[] }> = [
    { section: 'nav.section.clinical', items: [{ page: 'search', label: 'nav.search', href: '#/search', icon: '⌕' }] },
    { section: 'nav.section.governance', items: [{ page: 'overview', label: 'nav.overview', href: '#/overview', icon: '▦' }] },
    { section: 'nav.section.security', items: [{ page: 'audit', label: 'nav.audit', href: '#/audit', icon: '◉' }] },
  ];
  return sections.map((s) => ({ ...s, items: s.items.filter((i) => allowed.has(i.page)) })).filter((s) => s.items.length > 0);
}

export function Layout({ user, route, fixtures, onSignOut, children }: { user: Me; route: Route; fixtures: boolean; onSignOut(): void; children: ReactNode }) {
  const { t, lang, setLang } = useI18n();
  const active = route.page === 'record' && user.role !== 'resident' ? 'search' : route.page;
  return (
    <div className="shell">
      <aside className="sidebar">
        <Brand />
        <nav>
          {navItems(user).map((s) => (
            <div key={s.section} className="nav-section">
              <div className="nav-section-title">{t(s.section)}</div>
              {s.items.map((i) => (
                <a key={i.page} href={i.href} className={active === i.page ? 'nav-item active' : 'nav-item'}>
                  <span className="nav-icon" aria-hidden>{i.icon}</span>
                  {t(i.label)}
                </a>
              ))}
            </div>
          ))}
        </nav>
        <div className="sidebar-foot">{t('app.region')} · v0.1</div>
      </aside>
      <div className="main">
        <header className="topbar">
          <div className="topbar-title">{t('app.subtitle')}</div>
          <div className="topbar-right">
            <span className="user-chip">
              <span className="avatar">{user.name.slice(-2)}</span>
              <span className="user-name">{user.name}</span>
              <span className="role-tag">{t(`role.${user.role}`)}</span>
              <span className="user-inst">{user.institution?.name ?? t('top.noInstitution')}</span>
            </span>
            <button className="btn btn-ghost" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}>{t('top.lang')}</button>
            <button className="btn btn-ghost" onClick={onSignOut}>{t('top.signOut')}</button>
          </div>
        </header>
        {fixtures && <div className="fixtures-banner" role="note">{t('app.fixturesBanner')}</div>}
        <main className="content">{children}</main>
      </div>
    </div>
  );
}
