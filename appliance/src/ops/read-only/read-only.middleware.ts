import type { Middleware } from 'koa';
import { AppError } from '../../http/errors.js';
import type { ReadOnlyWatcher } from './read-only.watcher.js';

/** Methods that never change state: always served. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Writes still accepted while the appliance is read-only, and why:
 * - signing in (password + TOTP in one call), refreshing and ending a session: the
 *   super-admin must be able to log in to the admin pages to turn the switch off; these
 *   write only sessions, rate-limit counters and audit rows, never business data;
 * - the switch itself (its route still requires a super-admin): otherwise the API
 *   could turn it on but never off.
 * Everything else — ingestion, edits, user management, exports that record a job — is
 * refused; the agents treat the 503 as "keep spooling" and retry after Retry-After.
 * The CLI (`appliance readonly off`) and the console do not go through HTTP and always work.
 */
export const READ_ONLY_ALLOWED: readonly { method: string; path: string }[] = [
  { method: 'POST', path: '/api/auth/login' },
  { method: 'POST', path: '/api/auth/refresh' },
  { method: 'POST', path: '/api/auth/logout' },
  { method: 'POST', path: '/api/admin/read-only' },
];

/** True when a request may proceed while the switch is on. */
export function allowedWhileReadOnly(method: string, path: string): boolean {
  if (SAFE_METHODS.has(method)) return true;
  return READ_ONLY_ALLOWED.some((a) => a.method === method && a.path === path);
}

/**
 * Refuses state-changing requests with 503 + Retry-After while the kill switch is on.
 * Placed before the body parser so a refused request is not even read.
 */
export function readOnlyGuard(watcher: ReadOnlyWatcher, retryAfterS: number): Middleware {
  const guard: Middleware = (ctx, next) => {
    if (watcher.current().enabled && !allowedWhileReadOnly(ctx.method, ctx.path)) {
      throw new AppError(
        503,
        'read_only',
        'L’appliance est temporairement en lecture seule (maintenance ou incident) : la consultation reste possible, les modifications sont suspendues. Réessayez plus tard.',
        'write refused: appliance is read-only',
        { 'Retry-After': String(retryAfterS), 'X-Officine-Read-Only': '1' },
      );
    }
    return next();
  };
  // Until the state has been read once, every request waits for it; afterwards the
  // check is synchronous (no promise per request).
  return (ctx, next) => (watcher.isLoaded() ? guard(ctx, next) : watcher.ready().then(() => guard(ctx, next)));
}
