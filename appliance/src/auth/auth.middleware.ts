import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import type { ApiContext, AuthUser } from '../http/route.js';
import { authRuntime } from './auth-runtime.js';
import { COOKIES, readCookie } from './cookies.js';
import { SessionRepository } from './session.repository.js';

const unauthenticated = () => new AppError(401, 'unauthenticated', 'Authentification requise.');

/**
 * Resolves the caller from the access-JWT cookie: verifies the token, then loads its
 * session and user from the database (so a revoked session, a disabled account or a
 * role change takes effect at once, not when the token expires). Records activity
 * for the idle lifetime. Returns undefined when there is no cookie.
 */
export async function resolveUser(ctx: ApiContext, app: AppContext): Promise<AuthUser | undefined> {
  const token = readCookie(ctx, COOKIES.access);
  if (!token) return undefined;
  const claims = authRuntime(app).tokens.verify(token);
  const now = app.clock.now();
  const repo = new SessionRepository(app.db.manager);
  const s = await repo.findActive(claims.sid, now, app.config.SESSION_IDLE_MINUTES * 60);
  if (!s || s.userId !== claims.sub) {
    throw new AppError(401, 'session_ended', 'Votre session a pris fin, reconnectez-vous.', 'session revoked, expired or idle');
  }
  await repo.touch(s.sessionId, now);
  return {
    id: s.userId,
    sessionId: s.sessionId,
    email: s.email,
    displayName: s.displayName,
    role: s.role,
    pharmacyId: s.pharmacyId,
    groupementId: s.groupementId,
    totpEnabled: s.totpEnabled,
  };
}

/** Like resolveUser, but a missing cookie is a 401. */
export async function requireUser(ctx: ApiContext, app: AppContext): Promise<AuthUser> {
  const user = await resolveUser(ctx, app);
  if (!user) throw unauthenticated();
  return user;
}
