import { randomBytes } from 'node:crypto';
import { recordAudit, type AuditEntry } from '../audit/audit.service.js';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import { hashEmail } from '../logging/logger.js';
import { AuthService } from './auth.service.js';
import { hashPassword } from './password.js';
import { assertAcceptablePassword, normalisePassword } from './password-policy.js';
import type { Role } from './user.entity.js';
import { UserRepository, type UserSummary } from './user.repository.js';

/** Who performs an admin action (a request or the local console), for the audit log. */
export type Actor = Pick<AuditEntry, 'actorUserId' | 'actorRole' | 'ip' | 'requestId'> & { details?: Record<string, unknown> };

/** A new account request (from a pharmacy admin or the console). */
export interface NewUser {
  email: string;
  displayName: string;
  role: Role;
  pharmacyId?: string | null;
  groupementId?: string | null;
  /** Set directly (console); otherwise the user chooses it when verifying the email. */
  password?: string;
  /** Console only: the operator vouches for the address (no verification email). */
  activate?: boolean;
}

/**
 * Account administration shared by the pharmacy-admin API and the console:
 * create (pending until the email is verified), list, disable, reset TOTP,
 * revoke sessions. Every action is audited with its actor.
 */
export class UserAdminService {
  private readonly auth: AuthService;

  constructor(private readonly app: AppContext) {
    this.auth = new AuthService(app);
  }

  private repo(): UserRepository {
    return new UserRepository(this.app.db.manager);
  }

  async create(u: NewUser, actor: Actor): Promise<UserSummary> {
    const email = u.email.trim().toLowerCase();
    if (await this.repo().findIdByEmail(email)) throw new AppError(409, 'email_taken', 'Un compte existe déjà avec cette adresse.', 'email already used');
    if (u.password !== undefined) assertAcceptablePassword(u.password);
    let groupementId = u.groupementId ?? null;
    if (u.pharmacyId) {
      const rows = (await this.app.db.query(`SELECT groupement_id FROM pharmacies WHERE id = $1`, [u.pharmacyId])) as { groupement_id: string }[];
      if (!rows[0]) throw new AppError(404, 'pharmacy_not_found', 'Pharmacie introuvable.', 'unknown pharmacy');
      groupementId = u.role === 'group_admin' ? groupementId : rows[0].groupement_id;
    }
    const secret = u.password !== undefined ? normalisePassword(u.password) : randomBytes(32).toString('base64url');
    const now = this.app.clock.now();
    const id = await this.repo().create({
      email,
      displayName: u.displayName.trim(),
      passwordHash: await hashPassword(secret),
      role: u.role,
      pharmacyId: u.role === 'user' || u.role === 'pharmacy_admin' ? (u.pharmacyId ?? null) : null,
      groupementId: u.role === 'super_admin' ? (groupementId ?? null) : groupementId,
      status: u.activate ? 'active' : 'pending',
      emailVerifiedAt: u.activate ? now : null,
    });
    await recordAudit(this.app.db, { ...actor, action: 'user.created', pharmacyId: u.pharmacyId ?? null, targetType: 'user', targetId: id, details: { ...actor.details, role: u.role, email: hashEmail(email), activated: !!u.activate } }, now);
    if (!u.activate) await this.auth.sendVerification(id, true);
    return (await this.repo().summary(id))!;
  }

  list(filter: { pharmacyId?: string } = {}): Promise<UserSummary[]> {
    return this.repo().list(filter);
  }

  async get(id: string): Promise<UserSummary | undefined> {
    return this.repo().summary(id);
  }

  async disable(id: string, actor: Actor): Promise<boolean> {
    const u = await this.repo().summary(id);
    if (!u) throw new AppError(404, 'user_not_found', 'Utilisateur introuvable.', 'unknown user');
    const changed = await this.repo().setStatus(id, 'disabled', this.app.clock.now());
    await this.auth.revokeAllSessions(id, 'account_disabled', { ...actor, pharmacyId: u.pharmacyId });
    if (changed) await recordAudit(this.app.db, { ...actor, action: 'user.disabled', pharmacyId: u.pharmacyId, targetType: 'user', targetId: id, details: actor.details ?? {} }, this.app.clock.now());
    return changed;
  }

  /**
   * Changes a pharmacy account's role between `user` and `pharmacy_admin`. A pharmacy
   * never loses its last active admin; the account's sessions end so the new role
   * applies at once (a new admin then enrols TOTP before reaching anything else).
   */
  async changeRole(id: string, role: 'user' | 'pharmacy_admin', actor: Actor): Promise<boolean> {
    const u = await this.repo().summary(id);
    if (!u) throw new AppError(404, 'user_not_found', 'Utilisateur introuvable.', 'unknown user');
    if (u.role !== 'user' && u.role !== 'pharmacy_admin') {
      throw new AppError(422, 'role_not_changeable', 'Seuls les comptes d’une pharmacie changent de rôle ici.', `role ${u.role} is not a pharmacy role`);
    }
    if (u.role === role) return false;
    if (u.role === 'pharmacy_admin' && u.pharmacyId && (await this.repo().countActiveAdmins(u.pharmacyId, id)) === 0) {
      throw new AppError(422, 'last_pharmacy_admin', 'La pharmacie doit garder au moins un titulaire (administrateur) actif.', 'would leave the pharmacy without an active admin');
    }
    const now = this.app.clock.now();
    const changed = await this.repo().setRole(id, role, now);
    if (!changed) return false;
    await this.auth.revokeAllSessions(id, 'role_changed', { ...actor, pharmacyId: u.pharmacyId });
    await recordAudit(this.app.db, { ...actor, action: 'user.role_changed', level: 'warning', pharmacyId: u.pharmacyId, targetType: 'user', targetId: id, details: { ...actor.details, from: u.role, to: role } }, now);
    return true;
  }

  /** Removes TOTP (lost phone): the user enrols again at next login. Console only. */
  async resetTotp(id: string, actor: Actor): Promise<void> {
    const u = await this.repo().summary(id);
    if (!u) throw new AppError(404, 'user_not_found', 'Utilisateur introuvable.', 'unknown user');
    await this.repo().clearTotp(id, this.app.clock.now());
    await this.auth.revokeAllSessions(id, 'totp_reset', { ...actor, pharmacyId: u.pharmacyId });
    await recordAudit(this.app.db, { ...actor, action: 'auth.totp.reset', level: 'warning', pharmacyId: u.pharmacyId, targetType: 'user', targetId: id, details: actor.details ?? {} }, this.app.clock.now());
  }

  revokeSessions(id: string, actor: Actor & { pharmacyId?: string | null }): Promise<number> {
    return this.auth.revokeAllSessions(id, 'revoked_by_admin', actor);
  }
}
