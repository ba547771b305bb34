import { useEffect, useState } from 'preact/hooks';
import type { AccountView, CsrfResponse, LoginResponse, Role, SessionResponse } from '../../../appliance/src/auth/auth.api';
import { ApiError, get, post, setCsrfToken } from './client';

/** Roles as identity declares them (appliance/src/auth/auth.api.ts). */
export type { Role };

/** The signed-in account as `/api/auth/session` and login return it. */
export type Account = AccountView;

/** French names of the roles, for menus and user lists. */
export const ROLE_LABELS: Record<Role, string> = {
  user: 'Équipe officinale',
  pharmacy_admin: 'Titulaire (administrateur de la pharmacie)',
  group_admin: 'Administrateur du groupement',
  super_admin: 'Super-administrateur',
};

type State = { status: 'loading' } | { status: 'anonymous' } | { status: 'signed-in'; account: Account };

let state: State = { status: 'loading' };
const subscribers = new Set<(s: State) => void>();

function setState(next: State): void {
  state = next;
  for (const fn of subscribers) fn(state);
}

/** Current session state for components; re-renders on login/logout. */
export function useSession(): State {
  const [s, set] = useState(state);
  useEffect(() => {
    subscribers.add(set);
    set(state);
    return () => void subscribers.delete(set);
  }, []);
  return s;
}

/** The account if signed in (for code outside components). */
export function currentAccount(): Account | null {
  return state.status === 'signed-in' ? state.account : null;
}

/**
 * Startup: fetch a CSRF token (every POST needs one, login included), then ask
 * who is signed in. A 401 simply means nobody is.
 */
export async function loadSession(): Promise<void> {
  try {
    const { csrfToken } = await get<CsrfResponse>('/api/auth/csrf');
    setCsrfToken(csrfToken);
  } catch {
    // Without a token, writes fail with a clear server message; reading still works.
  }
  try {
    const { account } = await get<SessionResponse>('/api/auth/session');
    setState({ status: 'signed-in', account });
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) setState({ status: 'anonymous' });
    else setState({ status: 'anonymous' });
  }
}

/** Login outcome: signed in, or the password was right and a TOTP code is needed. */
export type LoginResult = { kind: 'ok'; account: Account } | { kind: 'totp_required' };

/** Password login, optionally with a TOTP or recovery code (identity answers 401 totp_required without one). */
export async function login(input: { email: string; password: string; totp?: string; recoveryCode?: string }): Promise<LoginResult> {
  try {
    const { account } = await post<LoginResponse>('/api/auth/login', input);
    setState({ status: 'signed-in', account });
    return { kind: 'ok', account };
  } catch (e) {
    if (e instanceof ApiError && e.code === 'totp_required' && !input.totp && !input.recoveryCode) return { kind: 'totp_required' };
    throw e;
  }
}

/** Marks the account as enrolled once TOTP is confirmed (no reload needed). */
export function markTotpEnabled(): void {
  if (state.status === 'signed-in') setState({ status: 'signed-in', account: { ...state.account, totpEnabled: true, totpEnrolmentRequired: false } });
}

/** Ends the session on the server and forgets it here. */
export async function logout(): Promise<void> {
  try {
    await post('/api/auth/logout');
  } finally {
    setCsrfToken(null);
    setState({ status: 'anonymous' });
    // The server cleared the cookies (Clear-Site-Data); get a fresh CSRF token for the next login.
    try {
      const { csrfToken } = await get<CsrfResponse>('/api/auth/csrf');
      setCsrfToken(csrfToken);
    } catch {
      /* next page load retries */
    }
  }
}

/** Forgets the session locally (the server said it ended). */
export function sessionEnded(): void {
  if (state.status === 'signed-in') setState({ status: 'anonymous' });
}
