import type { Me } from '../../../src/record/summary-types.ts';

/** The console's pages, addressed by the URL hash so the server needs no route per page. */
export type Route =
  | { page: 'login' }
  | { page: 'search'; q?: string }
  | { page: 'record'; personId: string }
  | { page: 'overview' }
  | { page: 'audit'; patient?: string };

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query);
  const parts = path.split('/').filter(Boolean);
  switch (parts[0]) {
    case 'search':
      return { page: 'search', q: params.get('q') ?? undefined };
    case 'record':
      return parts[1] ? { page: 'record', personId: decodeURIComponent(parts[1]) } : { page: 'search' };
    case 'overview':
      return { page: 'overview' };
    case 'audit':
      return { page: 'audit', patient: params.get('patient') ?? undefined };
    case 'login':
      return { page: 'login' };
    default:
      return { page: 'login' };
  }
}

export function routeHref(route: Route): string {
  switch (route.page) {
    case 'login':
      return '#/login';
    case 'search':
      return route.q ? `#/search?q=${encodeURIComponent(route.q)}` : '#/search';
    case 'record':
      return `#/record/${encodeURIComponent(route.personId)}`;
    case 'overview':
      return '#/overview';
    case 'audit':
      return route.patient ? `#/audit?patient=${encodeURIComponent(route.patient)}` : '#/audit';
  }
}

/** Pages each role may open; the server enforces the same rules, this only shapes the navigation. */
const PAGES: Record<Me['role'], Array<Route['page']>> = {
  clinician: ['search', 'record'],
  operator: ['overview', 'search', 'record', 'audit'],
  manager: ['overview'],
  auditor: ['audit'],
  resident: ['record', 'audit'],
  researcher: [],
  exporter: [],
  admin: ['overview', 'search', 'record', 'audit'],
};

export function allowedPages(role: Me['role']): Array<Route['page']> {
  return PAGES[role];
}

/** Where a role lands after sign-in. */
export function homeRoute(user: Me): Route {
  if (user.role === 'resident' && user.personId) return { page: 'record', personId: user.personId };
  const first = PAGES[user.role][0];
  if (first === 'overview') return { page: 'overview' };
  if (first === 'audit') return { page: 'audit' };
  return { page: 'search' };
}
