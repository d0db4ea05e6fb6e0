import type { Me } from '../../../src/record/summary-types.ts';

/** The signed-in session, kept in sessionStorage (gone when the tab closes; never in localStorage). */
export interface Session {
  token: string;
  user: Me;
}

const KEY = 'healthbrain.session';

export function loadSession(storage: Pick<Storage, 'getItem'>): Session | undefined {
  try {
    const raw = storage.getItem(KEY);
    const s = raw ? (JSON.parse(raw) as Session) : undefined;
    return s?.token && s.user?.role ? s : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(storage: Pick<Storage, 'setItem' | 'removeItem'>, session: Session | undefined): void {
  if (session) storage.setItem(KEY, JSON.stringify(session));
  else storage.removeItem(KEY);
}

/** Reads the claims of a JWT without verifying it (the server verifies); used when `/api/me` is not available. */
export function userFromJwt(token: string): Me | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const json = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)))) as Record<string, unknown>;
    const role = (json.role ?? (Array.isArray(json.roles) ? json.roles[0] : undefined)) as Me['role'] | undefined;
    if (!role || typeof json.sub !== 'string') return undefined;
    const instId = typeof json.inst === 'string' ? json.inst : typeof json.institution === 'string' ? json.institution : undefined;
    const inst = instId ? { id: instId, name: instId } : undefined;
    return { subject: json.sub, name: typeof json.name === 'string' ? json.name : json.sub, role, institution: inst };
  } catch {
    return undefined;
  }
}
