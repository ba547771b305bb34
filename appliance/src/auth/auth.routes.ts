import type { Router } from '@koa/router';
import { z } from 'zod';
import type { AppContext } from '../http/app-context.js';
import { issueCsrfToken } from '../http/csrf.middleware.js';
import { AppError } from '../http/errors.js';
import { currentUser, defineRoute, type ApiContext } from '../http/route.js';
import type { CsrfResponse, LoginResponse, SessionListResponse, SessionResponse } from './auth.api.js';
import { resolveUser } from './auth.middleware.js';
import { AuthService, type IssuedSession, type RequestMeta } from './auth.service.js';
import { clearCookie, COOKIES, readCookie, setCookie } from './cookies.js';
import { SessionRepository } from './session.repository.js';

const email = z.string().trim().min(3).max(254).email();
const password = z.string().min(1).max(1024);
const code = z.string().trim().max(64).optional();

/** Request facts for sessions and audit. */
export function requestMeta(ctx: ApiContext): RequestMeta {
  return { ip: ctx.state.clientIp, userAgent: ctx.get('User-Agent') || null, requestId: ctx.state.requestId };
}

function setSessionCookies(ctx: ApiContext, s: Pick<IssuedSession, 'accessToken' | 'accessTtlSeconds' | 'sessionTtlSeconds'> & { refreshToken?: string }): void {
  setCookie(ctx, COOKIES.access, s.accessToken, s.accessTtlSeconds);
  if (s.refreshToken) setCookie(ctx, COOKIES.refresh, s.refreshToken, s.sessionTtlSeconds);
}

/** /api/auth/*: login, refresh, logout, own sessions, password, email verification, TOTP enrolment. */
export function registerAuthRoutes(router: Router, app: AppContext): void {
  const auth = new AuthService(app);
  const csrfTtl = app.config.SESSION_ABSOLUTE_HOURS * 3600;

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/auth/csrf',
    permission: 'public',
    tenant: false,
    summary: 'CSRF token for the UI to echo in X-CSRF-Token (reuses the cookie when present).',
    handler: (ctx): CsrfResponse => {
      const existing = readCookie(ctx, COOKIES.csrf);
      return { csrfToken: existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : issueCsrfToken(ctx, csrfTtl) };
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/auth/login',
    permission: 'public',
    tenant: false,
    rateLimit: 'public',
    body: z.object({ email, password, totp: code, recoveryCode: code }),
    handler: async (ctx, { body }): Promise<LoginResponse> => {
      const { account, session } = await auth.login(body, requestMeta(ctx));
      setSessionCookies(ctx, session);
      const csrfToken = issueCsrfToken(ctx, session.sessionTtlSeconds); // new token per session (no fixation)
      return { account, csrfToken, accessExpiresInSeconds: session.accessTtlSeconds };
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/auth/refresh',
    permission: 'public',
    tenant: false,
    handler: async (ctx) => {
      const token = readCookie(ctx, COOKIES.refresh);
      if (!token) throw new AppError(401, 'unauthenticated', 'Authentification requise.', 'no refresh cookie');
      try {
        const r = await auth.refresh(token, requestMeta(ctx));
        setSessionCookies(ctx, r);
        return { accessExpiresInSeconds: r.accessTtlSeconds, rotated: !!r.refreshToken };
      } catch (err) {
        clearCookie(ctx, COOKIES.access);
        clearCookie(ctx, COOKIES.refresh);
        throw err;
      }
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/auth/logout',
    permission: 'public',
    tenant: false,
    summary: 'Ends the current session (found from the access or the refresh cookie) and clears the browser state.',
    handler: async (ctx) => {
      const user = await resolveUser(ctx, app).catch(() => undefined);
      const refresh = readCookie(ctx, COOKIES.refresh);
      const sessionId = user?.sessionId ?? (refresh ? await auth.sessionOfRefreshToken(refresh) : undefined);
      if (sessionId) {
        const owner = user?.id ?? (await new SessionRepository(app.db.manager).ownerOf(sessionId)) ?? '';
        await auth.endSession(sessionId, 'logout', { userId: owner, role: user?.role ?? null, pharmacyId: user?.pharmacyId ?? null }, requestMeta(ctx));
      }
      for (const c of Object.values(COOKIES)) clearCookie(ctx, c);
      ctx.set('Clear-Site-Data', '"cache", "cookies", "storage"');
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/auth/session',
    permission: 'self',
    tenant: false,
    allowDuringTotpEnrolment: true,
    handler: (ctx): SessionResponse => {
      const u = currentUser(ctx);
      return { account: AuthService.view(u, u.totpEnabled), sessionId: u.sessionId };
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/auth/sessions',
    permission: 'self',
    tenant: false,
    handler: async (ctx): Promise<SessionListResponse> => {
      const u = currentUser(ctx);
      const list = await new SessionRepository(app.db.manager).listForUser(u.id, app.clock.now());
      return { sessions: list.map((s) => ({ ...s, current: s.id === u.sessionId })) };
    },
  });

  defineRoute(router, app, {
    method: 'DELETE',
    path: '/api/auth/sessions/:sessionId',
    permission: 'self',
    tenant: false,
    params: z.object({ sessionId: z.uuid() }),
    handler: async (ctx, { params }) => {
      const u = currentUser(ctx);
      const owner = await new SessionRepository(app.db.manager).ownerOf(params.sessionId);
      if (owner !== u.id) throw new AppError(404, 'not_found', 'Ressource introuvable.', 'not one of the caller’s sessions');
      await auth.endSession(params.sessionId, 'revoked_by_owner', { userId: u.id, role: u.role, pharmacyId: u.pharmacyId }, requestMeta(ctx));
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/auth/password',
    permission: 'self',
    tenant: false,
    body: z.object({ currentPassword: password, newPassword: password }),
    summary: 'Changes one’s password; other sessions end.',
    handler: async (ctx, { body }) => {
      await auth.changePassword(currentUser(ctx), body.currentPassword, body.newPassword, requestMeta(ctx));
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/auth/password/forgot',
    permission: 'public',
    tenant: false,
    rateLimit: 'public',
    body: z.object({ email }),
    status: 202,
    handler: async (ctx, { body }) => {
      await auth.requestPasswordReset(body.email, requestMeta(ctx));
      return { message: 'Si un compte correspond à cette adresse, un lien de réinitialisation vient d’être envoyé.' };
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/auth/password/reset',
    permission: 'public',
    tenant: false,
    rateLimit: 'public',
    body: z.object({ token: z.string().min(20).max(200), newPassword: password, totp: code, recoveryCode: code }),
    handler: async (ctx, { body }) => {
      await auth.resetPassword(body, requestMeta(ctx));
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/auth/verify-email',
    permission: 'public',
    tenant: false,
    rateLimit: 'public',
    body: z.object({ token: z.string().min(20).max(200), password: password.optional() }),
    handler: async (ctx, { body }) => {
      await auth.verifyEmail(body, requestMeta(ctx));
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/auth/verify-email/resend',
    permission: 'public',
    tenant: false,
    rateLimit: 'public',
    body: z.object({ email }),
    status: 202,
    handler: async (ctx, { body }) => {
      await auth.resendVerification(body.email, requestMeta(ctx));
      return { message: 'Si un compte en attente correspond à cette adresse, un nouveau lien vient d’être envoyé.' };
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/auth/totp/enrol',
    permission: 'self',
    tenant: false,
    allowDuringTotpEnrolment: true,
    summary: 'New TOTP seed: otpauth URI and QR code (PNG data URL).',
    handler: async (ctx) => {
      const e = await auth.startTotpEnrolment(currentUser(ctx));
      return { otpauthUrl: e.otpauthUrl, qrDataUrl: e.qrDataUrl, secret: e.secret };
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/auth/totp/confirm',
    permission: 'self',
    tenant: false,
    allowDuringTotpEnrolment: true,
    body: z.object({ code: z.string().trim().regex(/^\d{6}$/) }),
    summary: 'Confirms enrolment with a first code; returns the 10 recovery codes once.',
    handler: async (ctx, { body }) => ({ recoveryCodes: await auth.confirmTotpEnrolment(currentUser(ctx), body.code, requestMeta(ctx)) }),
  });
}
