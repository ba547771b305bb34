import { createHash, randomBytes } from 'node:crypto';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { EntityManager } from 'typeorm';
import { recordAudit, type AuditEntry } from '../audit/audit.service.js';
import { recordAuthFailure } from '../ops/ops-runtime.js';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import { tooManyRequests } from '../http/rate-limit.js';
import { hashEmail } from '../logging/logger.js';
import { lockoutEmail, resetEmail, verifyEmail } from './auth-emails.js';
import { authRuntime, type AuthRuntime } from './auth-runtime.js';
import { hashPassword, needsRehash, verifyPassword } from './password.js';
import { assertAcceptablePassword, normalisePassword } from './password-policy.js';
import { TOTP_REQUIRED_ROLES } from './policy.js';
import { SecretBox } from './secret-box.js';
import { SessionRepository } from './session.repository.js';
import { Totp } from './totp.js';
import type { AccountView, Role } from './auth.api.js';
import { UserRepository, type LoginUser } from './user.repository.js';

/** Where a request came from, for sessions and audit. */
export interface RequestMeta {
  ip: string;
  userAgent: string | null;
  requestId: string | null;
}

/** A newly issued session: the cookie values and their lifetimes. */
export interface IssuedSession {
  sessionId: string;
  accessToken: string;
  accessTtlSeconds: number;
  refreshToken: string;
  sessionTtlSeconds: number;
}

export const RESET_TOKEN_MINUTES = 30;
export const VERIFY_TOKEN_HOURS = 48;
export const RECOVERY_CODE_COUNT = 10;

/** sha256 of a high-entropy token: enough to store refresh/reset tokens and recovery codes (not passwords). */
export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

const newToken = () => randomBytes(32).toString('base64url');

const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'Adresse e-mail ou mot de passe incorrect.', 'invalid credentials');

/** Recovery codes: 10 groups of lower-case base32, e.g. `k7d2m-q9x4p`, ~50 bits each. */
function newRecoveryCode(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const bytes = randomBytes(10);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

const normaliseRecovery = (code: string) => code.trim().toLowerCase().replace(/\s+/g, '');

let dummyHash: Promise<string> | undefined;

/**
 * Accounts and sessions: login (password, TOTP or recovery code, lockout), refresh
 * rotation with reuse detection, logout, password change and reset, email
 * verification, TOTP enrolment. Every security event goes to the audit log.
 */
export class AuthService {
  private readonly rt: AuthRuntime;
  private readonly totp: Totp;
  private readonly box: SecretBox;

  constructor(private readonly app: AppContext) {
    this.rt = authRuntime(app);
    this.totp = new Totp(app.clock);
    this.box = SecretBox.fromSecrets(app.secrets);
  }

  private now(): Date {
    return this.app.clock.now();
  }

  private audit(entry: AuditEntry, m?: EntityManager): Promise<unknown> {
    return recordAudit(m ?? this.app.db, entry, this.now());
  }

  /** Sends mail without making the caller wait (and without leaking timing on public endpoints); failures are logged. */
  private sendLater(msg: Parameters<AuthRuntime['mailer']['send']>[0], what: string): void {
    this.rt.mailer.send(msg).catch((err: unknown) => this.app.logger.error({ err, what }, 'email not sent'));
  }

  static view(u: { id: string; email: string; displayName: string; role: Role; pharmacyId: string | null; groupementId: string | null }, totpEnabled: boolean): AccountView {
    return {
      id: u.id,
      email: u.email,
      displayName: u.displayName,
      role: u.role,
      pharmacyId: u.pharmacyId,
      groupementId: u.groupementId,
      totpEnabled,
      totpEnrolmentRequired: TOTP_REQUIRED_ROLES.includes(u.role) && !totpEnabled,
    };
  }

  /**
   * Password login. Accounts with TOTP must also give a current code (or a
   * recovery code); without one the answer is 401 `totp_required`. Each wrong
   * password or code counts towards the lockout of the account (and of the IP).
   */
  async login(input: { email: string; password: string; totp?: string | undefined; recoveryCode?: string | undefined }, meta: RequestMeta): Promise<{ account: AccountView; session: IssuedSession }> {
    const email = input.email.trim().toLowerCase();
    const acctKey = email;
    const { limits } = this.rt;
    const ipState = await limits.loginFailuresByIp.get(meta.ip);
    if (ipState && ipState.consumedPoints >= limits.loginFailuresByIp.points) throw tooManyRequests(ipState.msBeforeNext);
    const acctState = await limits.loginFailuresByAccount.get(acctKey);
    if (acctState && acctState.consumedPoints >= limits.loginFailuresByAccount.points) throw this.locked(acctState.msBeforeNext);

    const repo = new UserRepository(this.app.db.manager);
    const user = await repo.findForLogin({ email });
    const password = normalisePassword(input.password);
    let ok: boolean;
    if (user) ok = await verifyPassword(user.passwordHash, password);
    else {
      // Same work for unknown accounts: the answer time does not tell which emails exist.
      await verifyPassword(await (dummyHash ??= hashPassword('not-a-real-account-password')), password);
      ok = false;
    }
    if (!user || !ok || user.status === 'disabled') return this.failLogin(email, user, 'password', meta);
    if (user.status === 'pending') {
      throw new AppError(403, 'email_not_verified', 'Confirmez d’abord votre adresse e-mail (lien reçu par e-mail).', 'email not verified');
    }
    if (user.totpSecretEnc) {
      if (input.recoveryCode) {
        const used = await repo.consumeRecoveryCode(user.id, tokenHash(normaliseRecovery(input.recoveryCode)), this.now());
        if (!used) return this.failLogin(email, user, 'recovery_code', meta);
        await this.audit({ action: 'auth.totp.recovery_used', level: 'warning', actorUserId: user.id, actorRole: user.role, pharmacyId: user.pharmacyId, ip: meta.ip, requestId: meta.requestId, details: { remaining: await repo.remainingRecoveryCodes(user.id) } });
      } else if (!input.totp) {
        throw new AppError(401, 'totp_required', 'Saisissez le code de votre application d’authentification.', 'TOTP code required');
      } else if (!(await this.checkTotp(user, input.totp))) {
        return this.failLogin(email, user, 'totp', meta);
      }
    }
    if (needsRehash(user.passwordHash)) await repo.rehash(user.id, user.passwordHash, await hashPassword(password));
    await limits.loginFailuresByAccount.delete(acctKey);
    const session = await this.issueSession(user.id, meta);
    await repo.recordLogin(user.id, this.now());
    await this.audit({ action: 'auth.login.success', actorUserId: user.id, actorRole: user.role, pharmacyId: user.pharmacyId, targetType: 'session', targetId: session.sessionId, ip: meta.ip, requestId: meta.requestId, details: { secondFactor: user.totpSecretEnc ? (input.recoveryCode ? 'recovery_code' : 'totp') : 'none' } });
    return { account: AuthService.view(user, !!user.totpSecretEnc), session };
  }

  private locked(msBeforeNext: number): AppError {
    const minutes = Math.max(1, Math.ceil(msBeforeNext / 60000));
    return new AppError(423, 'account_locked', `Compte verrouillé après plusieurs échecs. Réessayez dans ${minutes} min.`, 'account locked', {
      'Retry-After': String(Math.max(1, Math.ceil(msBeforeNext / 1000))),
    });
  }

  /** Counts a failure; the one that reaches the limit locks the account, audits it and emails the owner. */
  private async failLogin(email: string, user: LoginUser | undefined, reason: string, meta: RequestMeta): Promise<never> {
    const { limits } = this.rt;
    await limits.loginFailuresByIp.penalty(meta.ip).catch(() => undefined);
    const res = await limits.loginFailuresByAccount.penalty(email);
    const base = { actorUserId: user?.id ?? null, actorRole: user?.role ?? null, pharmacyId: user?.pharmacyId ?? null, ip: meta.ip, requestId: meta.requestId };
    await this.audit({ ...base, action: reason === 'totp' ? 'auth.totp.failure' : 'auth.login.failure', level: 'warning', details: { reason, email: hashEmail(email), failures: res.consumedPoints } });
    recordAuthFailure(this.app, reason);
    if (res.consumedPoints >= limits.loginFailuresByAccount.points) {
      const lockSeconds = this.app.config.LOGIN_LOCK_MINUTES * 60;
      await limits.loginFailuresByAccount.block(email, lockSeconds);
      await this.audit({ ...base, action: 'auth.lockout', level: 'warning', details: { email: hashEmail(email), minutes: this.app.config.LOGIN_LOCK_MINUTES } });
      if (user && user.status !== 'disabled') this.sendLater(lockoutEmail(user.email, this.app.config.LOGIN_LOCK_MINUTES, meta.ip), 'lockout');
      throw this.locked(lockSeconds * 1000);
    }
    if (reason === 'totp' || reason === 'recovery_code') {
      throw new AppError(401, 'invalid_totp', 'Code de double authentification incorrect ou déjà utilisé.', 'bad TOTP or recovery code');
    }
    throw invalidCredentials();
  }

  /** Checks a TOTP code and burns its time step (each code once). */
  private async checkTotp(user: Pick<LoginUser, 'id' | 'totpSecretEnc'>, code: string): Promise<boolean> {
    if (!user.totpSecretEnc) return false;
    const step = this.totp.matchStep(this.box.open(user.totpSecretEnc, 'users.totp_secret'), code.trim());
    if (step === undefined) return false;
    return new UserRepository(this.app.db.manager).consumeTotpStep(user.id, step);
  }

  /** Opens a session: a session row (the refresh family), its first refresh token, an access JWT. */
  async issueSession(userId: string, meta: RequestMeta): Promise<IssuedSession> {
    const now = this.now();
    const absolute = this.app.config.SESSION_ABSOLUTE_HOURS * 3600;
    const refreshToken = newToken();
    const sessionId = await this.app.db.transaction(async (m) => {
      const repo = new SessionRepository(m);
      const id = await repo.create({ userId, now, expiresAt: new Date(now.getTime() + absolute * 1000), ip: meta.ip || null, userAgent: meta.userAgent });
      await repo.insertRefresh({ sessionId: id, parentId: null, tokenHash: tokenHash(refreshToken), now });
      return id;
    });
    const role = (await new UserRepository(this.app.db.manager).summary(userId))!.role;
    const access = this.rt.tokens.sign(userId, sessionId, role);
    return { sessionId, accessToken: access.token, accessTtlSeconds: this.app.config.ACCESS_TOKEN_TTL_SECONDS, refreshToken, sessionTtlSeconds: absolute };
  }

  /**
   * Rotates a refresh token. The current token yields a new access token and a new
   * refresh token (its child). Its immediate parent, presented again within the
   * grace period (two tabs refreshing at once), yields an access token only. Any
   * other reuse revokes the whole family (the session) and raises an alert.
   */
  async refresh(token: string, meta: RequestMeta): Promise<{ accessToken: string; accessTtlSeconds: number; refreshToken?: string; sessionTtlSeconds: number }> {
    const now = this.now();
    const grace = this.app.config.REFRESH_REUSE_GRACE_SECONDS * 1000;
    const outcome = await this.app.db.transaction(async (m) => {
      const repo = new SessionRepository(m);
      const row = await repo.findRefreshForUpdate(tokenHash(token));
      if (!row || row.revokedAt) return { kind: 'invalid' as const };
      const session = await repo.findActive(row.sessionId, now, this.app.config.SESSION_IDLE_MINUTES * 60);
      if (!session) return { kind: 'invalid' as const };
      const sessionTtlSeconds = Math.max(1, Math.floor((session.expiresAt.getTime() - now.getTime()) / 1000));
      if (!row.rotatedAt) {
        const child = newToken();
        await repo.markRotated(row.id, now);
        await repo.insertRefresh({ sessionId: row.sessionId, parentId: row.id, tokenHash: tokenHash(child), now });
        return { kind: 'rotated' as const, session, refreshToken: child, sessionTtlSeconds };
      }
      const child = await repo.childOf(row.id);
      const inGrace = now.getTime() - row.rotatedAt.getTime() <= grace && !!child && !child.rotatedAt && !child.revokedAt;
      if (inGrace) return { kind: 'grace' as const, session, sessionTtlSeconds };
      await repo.revoke(row.sessionId, 'refresh_token_reuse', now);
      await recordAudit(m, { action: 'auth.refresh.reuse', level: 'alert', actorUserId: session.userId, actorRole: session.role, pharmacyId: session.pharmacyId, targetType: 'session', targetId: row.sessionId, ip: meta.ip, requestId: meta.requestId, details: { tokenId: row.id, rotatedAt: row.rotatedAt.toISOString() } }, now);
      return { kind: 'reuse' as const };
    });
    if (outcome.kind === 'invalid') throw new AppError(401, 'session_ended', 'Votre session a pris fin, reconnectez-vous.', 'unknown, revoked or expired refresh token');
    if (outcome.kind === 'reuse') {
      this.app.logger.warn({ requestId: meta.requestId }, 'refresh token reuse: session family revoked');
      throw new AppError(401, 'refresh_reuse', 'Votre session a été fermée par sécurité, reconnectez-vous.', 'refresh token reuse detected');
    }
    const access = this.rt.tokens.sign(outcome.session.userId, outcome.session.sessionId, outcome.session.role);
    return {
      accessToken: access.token,
      accessTtlSeconds: this.app.config.ACCESS_TOKEN_TTL_SECONDS,
      ...(outcome.kind === 'rotated' ? { refreshToken: outcome.refreshToken } : {}),
      sessionTtlSeconds: outcome.sessionTtlSeconds,
    };
  }

  /** Ends a session (by id), e.g. at logout; true when something was revoked. */
  async endSession(sessionId: string, reason: string, actor: { userId: string; role: string | null; pharmacyId: string | null }, meta: RequestMeta): Promise<boolean> {
    const done = await new SessionRepository(this.app.db.manager).revoke(sessionId, reason, this.now());
    if (done) await this.audit({ action: reason === 'logout' ? 'auth.logout' : 'session.revoked', actorUserId: actor.userId, actorRole: actor.role, pharmacyId: actor.pharmacyId, targetType: 'session', targetId: sessionId, ip: meta.ip, requestId: meta.requestId, details: { reason } });
    return done;
  }

  /** The session a refresh token belongs to (logout with an expired access token). */
  async sessionOfRefreshToken(token: string): Promise<string | undefined> {
    const rows = (await this.app.db.query(`SELECT session_id FROM refresh_tokens WHERE token_hash = $1`, [tokenHash(token)])) as { session_id: string }[];
    return rows[0]?.session_id;
  }

  /** Ends every session of a user (admin action, password reset, TOTP reset). */
  async revokeAllSessions(userId: string, reason: string, actor: Partial<AuditEntry>, exceptSessionId: string | null = null): Promise<number> {
    const n = await new SessionRepository(this.app.db.manager).revokeAllForUser(userId, reason, this.now(), exceptSessionId);
    await this.audit({ ...actor, action: 'session.revoked_all', targetType: 'user', targetId: userId, details: { reason, count: n } });
    return n;
  }

  /** Changes one's password (current one required) and ends one's other sessions. */
  async changePassword(user: { id: string; role: Role; pharmacyId: string | null; sessionId: string }, current: string, next: string, meta: RequestMeta): Promise<void> {
    const repo = new UserRepository(this.app.db.manager);
    const u = await repo.findForLogin({ id: user.id });
    if (!u || !(await verifyPassword(u.passwordHash, normalisePassword(current)))) {
      await this.audit({ action: 'auth.password.change_failed', level: 'warning', actorUserId: user.id, actorRole: user.role, pharmacyId: user.pharmacyId, ip: meta.ip, requestId: meta.requestId });
      throw new AppError(403, 'wrong_current_password', 'Mot de passe actuel incorrect.', 'wrong current password');
    }
    assertAcceptablePassword(next);
    await repo.setPassword(user.id, await hashPassword(normalisePassword(next)), this.now());
    const ended = await new SessionRepository(this.app.db.manager).revokeAllForUser(user.id, 'password_changed', this.now(), user.sessionId);
    await this.audit({ action: 'auth.password.changed', actorUserId: user.id, actorRole: user.role, pharmacyId: user.pharmacyId, targetType: 'user', targetId: user.id, ip: meta.ip, requestId: meta.requestId, details: { otherSessionsEnded: ended } });
  }

  /** Emails a reset link when the account exists; the caller always answers the same (no account enumeration). */
  async requestPasswordReset(emailInput: string, meta: RequestMeta): Promise<void> {
    const email = emailInput.trim().toLowerCase();
    const repo = new UserRepository(this.app.db.manager);
    const user = await repo.findForLogin({ email });
    await this.audit({ action: 'auth.password.reset_requested', actorUserId: user?.id ?? null, ip: meta.ip, requestId: meta.requestId, details: { email: hashEmail(email), known: !!user } });
    if (!user || user.status === 'disabled') return;
    const token = newToken();
    const now = this.now();
    await repo.expireTokens(user.id, 'reset_password', now);
    await repo.insertToken({ userId: user.id, purpose: 'reset_password', hash: tokenHash(token), now, expiresAt: new Date(now.getTime() + RESET_TOKEN_MINUTES * 60000) });
    const link = `${this.app.config.PUBLIC_URL.replace(/\/+$/, '')}/app/mot-de-passe#jeton=${token}`;
    this.sendLater(resetEmail(user.email, link, RESET_TOKEN_MINUTES), 'password reset');
  }

  /**
   * Sets a new password from an emailed token. The token is single-use and lives
   * 30 minutes; it never bypasses TOTP: an account with TOTP must also give a
   * current code or a recovery code. All sessions end.
   */
  async resetPassword(input: { token: string; newPassword: string; totp?: string | undefined; recoveryCode?: string | undefined }, meta: RequestMeta): Promise<void> {
    const repo = new UserRepository(this.app.db.manager);
    const hash = tokenHash(input.token);
    const now = this.now();
    const invalid = () => new AppError(400, 'invalid_reset_token', 'Lien de réinitialisation invalide, expiré ou déjà utilisé.', 'invalid reset token');
    const userId = await repo.peekToken('reset_password', hash, now);
    if (!userId) throw invalid();
    const user = (await repo.findForLogin({ id: userId }))!;
    assertAcceptablePassword(input.newPassword);
    if (user.totpSecretEnc) {
      let ok = false;
      if (input.recoveryCode) ok = await repo.consumeRecoveryCode(user.id, tokenHash(normaliseRecovery(input.recoveryCode)), now);
      else if (input.totp) ok = await this.checkTotp(user, input.totp);
      if (!ok) {
        await this.audit({ action: 'auth.totp.failure', level: 'warning', actorUserId: user.id, actorRole: user.role, pharmacyId: user.pharmacyId, ip: meta.ip, requestId: meta.requestId, details: { during: 'password_reset' } });
        throw new AppError(401, input.totp || input.recoveryCode ? 'invalid_totp' : 'totp_required', 'Saisissez un code valide de votre application d’authentification.', 'TOTP required for reset');
      }
    }
    if ((await repo.consumeToken('reset_password', hash, now)) !== user.id) throw invalid();
    await repo.setPassword(user.id, await hashPassword(normalisePassword(input.newPassword)), now);
    await repo.markEmailVerified(user.id, now);
    const ended = await new SessionRepository(this.app.db.manager).revokeAllForUser(user.id, 'password_reset', now);
    await this.rt.limits.loginFailuresByAccount.delete(user.email);
    await this.audit({ action: 'auth.password.reset', actorUserId: user.id, actorRole: user.role, pharmacyId: user.pharmacyId, targetType: 'user', targetId: user.id, ip: meta.ip, requestId: meta.requestId, details: { sessionsEnded: ended } });
  }

  /**
   * Emails a verification link to a pending account (new account, or resend).
   * `wait`: deliver before returning (admin actions, the console); public resends don't wait.
   */
  async sendVerification(userId: string, wait = false): Promise<void> {
    const repo = new UserRepository(this.app.db.manager);
    const u = await repo.summary(userId);
    if (!u || u.status !== 'pending') return;
    const token = newToken();
    const now = this.now();
    await repo.expireTokens(u.id, 'verify_email', now);
    await repo.insertToken({ userId: u.id, purpose: 'verify_email', hash: tokenHash(token), now, expiresAt: new Date(now.getTime() + VERIFY_TOKEN_HOURS * 3600_000) });
    const link = `${this.app.config.PUBLIC_URL.replace(/\/+$/, '')}/app/activer#jeton=${token}`;
    const msg = verifyEmail(u.email, u.displayName, link, VERIFY_TOKEN_HOURS);
    if (!wait) return this.sendLater(msg, 'email verification');
    await this.rt.mailer.send(msg).catch((err: unknown) => this.app.logger.error({ err }, 'verification email not sent'));
  }

  /** Resend from the public form: same answer whether the address exists or not. */
  async resendVerification(emailInput: string, meta: RequestMeta): Promise<void> {
    const email = emailInput.trim().toLowerCase();
    const id = await new UserRepository(this.app.db.manager).findIdByEmail(email);
    await this.audit({ action: 'auth.email.verification_resent', actorUserId: id ?? null, ip: meta.ip, requestId: meta.requestId, details: { email: hashEmail(email), known: !!id } });
    if (id) await this.sendVerification(id);
  }

  /**
   * Confirms an address from the emailed token and activates the account. A new
   * account chooses its password here (accounts created by invitation have none usable).
   */
  async verifyEmail(input: { token: string; password?: string | undefined }, meta: RequestMeta): Promise<void> {
    const repo = new UserRepository(this.app.db.manager);
    const now = this.now();
    if (input.password !== undefined) assertAcceptablePassword(input.password);
    const userId = await repo.consumeToken('verify_email', tokenHash(input.token), now);
    if (!userId) throw new AppError(400, 'invalid_verification_token', 'Lien d’activation invalide, expiré ou déjà utilisé.', 'invalid verification token');
    if (input.password !== undefined) await repo.setPassword(userId, await hashPassword(normalisePassword(input.password)), now);
    await repo.markEmailVerified(userId, now);
    const u = (await repo.summary(userId))!;
    await this.audit({ action: 'auth.email.verified', actorUserId: userId, actorRole: u.role, pharmacyId: u.pharmacyId, targetType: 'user', targetId: userId, ip: meta.ip, requestId: meta.requestId, details: { passwordSet: input.password !== undefined } });
  }

  /** Starts (or restarts) TOTP enrolment: a new seed kept sealed until confirmed. */
  async startTotpEnrolment(user: { id: string; email: string; totpEnabled: boolean }): Promise<{ otpauthUrl: string; qrDataUrl: string; secret: string }> {
    if (user.totpEnabled) throw new AppError(409, 'totp_already_enabled', 'La double authentification est déjà activée sur ce compte.', 'TOTP already enabled');
    const e = await this.totp.enrol(user.email);
    await new UserRepository(this.app.db.manager).setPendingTotp(user.id, this.box.seal(e.secret, 'users.totp_secret'));
    return e;
  }

  /** Confirms enrolment with a first code; returns the 10 recovery codes, shown once. */
  async confirmTotpEnrolment(user: { id: string; role: Role; pharmacyId: string | null }, code: string, meta: RequestMeta): Promise<string[]> {
    const repo = new UserRepository(this.app.db.manager);
    const u = await repo.findForLogin({ id: user.id });
    if (!u?.totpPendingSecretEnc) throw new AppError(409, 'totp_not_started', 'Commencez par demander un nouveau QR code.', 'no pending enrolment');
    const step = this.totp.matchStep(this.box.open(u.totpPendingSecretEnc, 'users.totp_secret'), code.trim());
    if (step === undefined) {
      await this.audit({ action: 'auth.totp.failure', level: 'warning', actorUserId: user.id, actorRole: user.role, pharmacyId: user.pharmacyId, ip: meta.ip, requestId: meta.requestId, details: { during: 'enrolment' } });
      throw new AppError(422, 'invalid_totp', 'Code incorrect : vérifiez l’heure de votre téléphone et réessayez.', 'bad TOTP at enrolment');
    }
    return this.activatePendingTotp(user, step, { actorUserId: user.id, actorRole: user.role, ip: meta.ip, requestId: meta.requestId });
  }

  /**
   * Enrolment from the local console (the first super-admin, at install): the same seed
   * generation and sealing as the web flow (`startTotpEnrolment`), then active at once with
   * its 10 recovery codes, since the operator reads the QR code on the console itself.
   * No code has been used yet (`totp_last_step` NULL): the first login must give a code
   * of this seed (or a recovery code), and that first code is the confirmation. The
   * password alone opens nothing, not even the enrolment routes, so nobody holding only
   * the password can replace the seed. Returns what the console prints once.
   */
  async enrolTotpAtConsole(
    user: { id: string; email: string; role: Role; pharmacyId: string | null; totpEnabled: boolean },
    actor: Pick<AuditEntry, 'actorUserId' | 'actorRole' | 'ip' | 'requestId'> & { details?: Record<string, unknown> },
  ): Promise<{ otpauthUrl: string; secret: string; recoveryCodes: string[] }> {
    const e = await this.startTotpEnrolment(user);
    const recoveryCodes = await this.activatePendingTotp(user, null, { ...actor, details: { ...actor.details, confirmation: 'first_login' } });
    return { otpauthUrl: e.otpauthUrl, secret: e.secret, recoveryCodes };
  }

  /** Makes the pending seed the account's TOTP (with `step` as the last code used, if any) and issues the recovery codes, in one transaction. */
  private async activatePendingTotp(
    user: { id: string; role: Role; pharmacyId: string | null },
    step: number | null,
    actor: Pick<AuditEntry, 'actorUserId' | 'actorRole' | 'ip' | 'requestId' | 'details'>,
  ): Promise<string[]> {
    const now = this.now();
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.app.db.transaction(async (m) => {
      const r = new UserRepository(m);
      if (!(await r.enableTotp(user.id, step, now))) throw new AppError(409, 'totp_already_enabled', 'La double authentification est déjà activée.', 'race on enrolment');
      await r.replaceRecoveryCodes(user.id, codes.map((c) => tokenHash(c)), now);
      await recordAudit(m, { ...actor, action: 'auth.totp.enrolled', pharmacyId: user.pharmacyId, targetType: 'user', targetId: user.id }, now);
    });
    return codes;
  }
}
