import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { COOKIES, readCookie, setCookie } from '../auth/cookies.js';
import { AppError } from './errors.js';

/** Header the UI sends back with the CSRF token on every state-changing request. */
export const CSRF_HEADER = 'X-CSRF-Token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Issues a fresh CSRF token: kept in an HttpOnly cookie, returned in the body for the UI to echo. */
export function issueCsrfToken(ctx: Context, maxAgeSeconds: number): string {
  const token = randomBytes(32).toString('base64url');
  setCookie(ctx, COOKIES.csrf, token, maxAgeSeconds);
  return token;
}

/**
 * CSRF defence for every non-GET request: the Origin header must be the appliance's
 * own public origin (acceptedOrigins), and the `X-CSRF-Token` header must equal the token in the
 * `__Host-` cookie (unreadable and unsettable by another site). SameSite=Strict
 * cookies are a third layer, not a replacement.
 */
export function checkCsrf(ctx: Context, publicOrigins: ReadonlySet<string>): void {
  if (SAFE_METHODS.has(ctx.method)) return;
  const origin = ctx.get('Origin');
  if (!origin || !publicOrigins.has(origin)) {
    throw new AppError(403, 'csrf_origin', 'Requête refusée : origine non reconnue.', `origin ${origin || '(none)'} is not one of ${[...publicOrigins].join(', ')}`);
  }
  const cookie = readCookie(ctx, COOKIES.csrf);
  const header = ctx.get(CSRF_HEADER);
  const ok = !!cookie && !!header && cookie.length === header.length && timingSafeEqual(Buffer.from(cookie), Buffer.from(header));
  if (!ok) throw new AppError(403, 'csrf_token', 'Requête refusée : jeton anti-CSRF absent ou invalide. Rechargez la page.', 'missing or wrong CSRF token');
}
