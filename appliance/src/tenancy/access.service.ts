import { recordAudit } from '../audit/audit.service.js';
import { authRuntime } from '../auth/auth-runtime.js';
import { breakGlassEmail } from '../auth/auth-emails.js';
import type { GrantPermission } from '../auth/policy.js';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import type { Actor } from '../auth/user-admin.service.js';

/** Longest break-glass a super-admin may open. */
export const BREAK_GLASS_MAX_MINUTES = 240;

/** A grant as shown to the pharmacy admin. */
export interface GrantView {
  id: string;
  granteeUserId: string;
  granteeName: string;
  permission: GrantPermission;
  grantedAt: Date;
}

/** A break-glass as shown to the operator and to the pharmacy's admins. */
export interface BreakGlassView {
  id: string;
  pharmacyId: string;
  userId: string;
  operatorName: string;
  reason: string;
  openedAt: Date;
  expiresAt: Date;
  closedAt: Date | null;
  active: boolean;
}

/**
 * Who besides a pharmacy's own staff may see its data: group admins it granted a
 * named permission to, and super-admins under a justified, time-boxed, audited
 * break-glass that the pharmacy's admins can see.
 */
export class AccessService {
  constructor(private readonly app: AppContext) {}

  private now(): Date {
    return this.app.clock.now();
  }

  async listGrants(pharmacyId: string): Promise<GrantView[]> {
    return (await this.app.db.query(
      `SELECT g.id, g.grantee_user_id AS "granteeUserId", u.display_name AS "granteeName", g.permission, g.granted_at AS "grantedAt"
         FROM group_admin_grants g JOIN users u ON u.id = g.grantee_user_id
        WHERE g.pharmacy_id = $1 AND g.revoked_at IS NULL ORDER BY g.granted_at`,
      [pharmacyId],
    )) as GrantView[];
  }

  /** The active group admins of the pharmacy's own groupement: whom its admin may grant access to. */
  async groupAdmins(pharmacyId: string): Promise<{ id: string; displayName: string }[]> {
    return (await this.app.db.query(
      `SELECT u.id, u.display_name AS "displayName" FROM users u JOIN pharmacies p ON p.groupement_id = u.groupement_id
        WHERE p.id = $1 AND u.role = 'group_admin' AND u.status = 'active' ORDER BY u.display_name`,
      [pharmacyId],
    )) as { id: string; displayName: string }[];
  }

  /** Grants a group admin of the same groupement a permission on the pharmacy (idempotent). */
  async grant(pharmacyId: string, granteeUserId: string, permission: GrantPermission, actor: Actor): Promise<string> {
    const rows = (await this.app.db.query(
      `SELECT 1 FROM users u JOIN pharmacies p ON p.groupement_id = u.groupement_id WHERE u.id = $1 AND p.id = $2 AND u.role = 'group_admin' AND u.status = 'active'`,
      [granteeUserId, pharmacyId],
    )) as unknown[];
    if (!rows.length) throw new AppError(422, 'invalid_grantee', 'Ce compte n’est pas un administrateur actif de votre groupement.', 'grantee is not an active group admin of this groupement');
    const now = this.now();
    const id = await this.app.db.transaction(async (m) => {
      const existing = (await m.query(
        `SELECT id FROM group_admin_grants WHERE pharmacy_id = $1 AND grantee_user_id = $2 AND permission = $3 AND revoked_at IS NULL`,
        [pharmacyId, granteeUserId, permission],
      )) as { id: string }[];
      if (existing[0]) return existing[0].id;
      const ins = (await m.query(
        `INSERT INTO group_admin_grants (pharmacy_id, grantee_user_id, permission, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [pharmacyId, granteeUserId, permission, actor.actorUserId ?? null, now],
      )) as { id: string }[];
      await recordAudit(m, { ...actor, action: 'grant.created', pharmacyId, targetType: 'user', targetId: granteeUserId, details: { permission, grantId: ins[0]!.id } }, now);
      return ins[0]!.id;
    });
    return id;
  }

  async revokeGrant(pharmacyId: string, grantId: string, actor: Actor): Promise<void> {
    const now = this.now();
    await this.app.db.transaction(async (m) => {
      const r = (await m.query(
        `UPDATE group_admin_grants SET revoked_at = $3, revoked_by = $4 WHERE id = $1 AND pharmacy_id = $2 AND revoked_at IS NULL RETURNING grantee_user_id, permission`,
        [grantId, pharmacyId, now, actor.actorUserId ?? null],
      )) as [{ grantee_user_id: string; permission: string }[], number];
      const g = r[0][0];
      if (!g) throw new AppError(404, 'grant_not_found', 'Autorisation introuvable.', 'no active grant with this id on this pharmacy');
      await recordAudit(m, { ...actor, action: 'grant.revoked', pharmacyId, targetType: 'user', targetId: g.grantee_user_id, details: { permission: g.permission, grantId } }, now);
    });
  }

  /** Pharmacies that granted the group admin something, with what. */
  async grantedPharmacies(granteeUserId: string): Promise<{ id: string; name: string; finess: string; permissions: GrantPermission[] }[]> {
    return (await this.app.db.query(
      `SELECT p.id, p.name, p.finess, array_agg(g.permission ORDER BY g.permission) AS permissions
         FROM group_admin_grants g JOIN pharmacies p ON p.id = g.pharmacy_id
        WHERE g.grantee_user_id = $1 AND g.revoked_at IS NULL GROUP BY p.id ORDER BY p.name`,
      [granteeUserId],
    )) as { id: string; name: string; finess: string; permissions: GrantPermission[] }[];
  }

  /** Opens a break-glass: written reason, duration ≤ 4 h; audited and emailed to the pharmacy's admins. */
  async openBreakGlass(input: { pharmacyId: string; reason: string; durationMinutes: number }, actor: Actor & { actorUserId: string }): Promise<BreakGlassView> {
    if (input.durationMinutes < 1 || input.durationMinutes > BREAK_GLASS_MAX_MINUTES) {
      throw new AppError(422, 'invalid_duration', `Durée entre 1 et ${BREAK_GLASS_MAX_MINUTES} minutes.`, 'break-glass duration out of range');
    }
    const pharmacy = ((await this.app.db.query(`SELECT id, name FROM pharmacies WHERE id = $1`, [input.pharmacyId])) as { id: string; name: string }[])[0];
    if (!pharmacy) throw new AppError(404, 'pharmacy_not_found', 'Pharmacie introuvable.', 'unknown pharmacy');
    const now = this.now();
    const expiresAt = new Date(now.getTime() + input.durationMinutes * 60000);
    const id = await this.app.db.transaction(async (m) => {
      const rows = (await m.query(
        `INSERT INTO break_glass_sessions (pharmacy_id, user_id, reason, opened_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [pharmacy.id, actor.actorUserId, input.reason.trim(), now, expiresAt],
      )) as { id: string }[];
      await recordAudit(m, { ...actor, action: 'break_glass.opened', level: 'warning', pharmacyId: pharmacy.id, targetType: 'break_glass', targetId: rows[0]!.id, details: { reason: input.reason.trim(), minutes: input.durationMinutes, expiresAt: expiresAt.toISOString() } }, now);
      return rows[0]!.id;
    });
    const view = (await this.listBreakGlass({ id }))[0]!;
    const admins = (await this.app.db.query(`SELECT email FROM users WHERE pharmacy_id = $1 AND role = 'pharmacy_admin' AND status = 'active'`, [pharmacy.id])) as { email: string }[];
    const { mailer } = authRuntime(this.app);
    for (const a of admins) {
      mailer.send(breakGlassEmail(a.email, pharmacy.name, view.operatorName, view.reason, expiresAt)).catch((err: unknown) => this.app.logger.error({ err }, 'break-glass email not sent'));
    }
    return view;
  }

  async closeBreakGlass(id: string, actor: Actor & { actorUserId: string }): Promise<void> {
    const now = this.now();
    await this.app.db.transaction(async (m) => {
      const r = (await m.query(
        `UPDATE break_glass_sessions SET closed_at = $2, closed_by = $3 WHERE id = $1 AND user_id = $3 AND closed_at IS NULL RETURNING pharmacy_id`,
        [id, now, actor.actorUserId],
      )) as [{ pharmacy_id: string }[], number];
      const row = r[0][0];
      if (!row) throw new AppError(404, 'break_glass_not_found', 'Accès d’urgence introuvable ou déjà fermé.', 'no open break-glass of this operator');
      await recordAudit(m, { ...actor, action: 'break_glass.closed', pharmacyId: row.pharmacy_id, targetType: 'break_glass', targetId: id }, now);
    });
  }

  /** Break-glass sessions of a pharmacy (what its admins see), of an operator, or one by id. */
  async listBreakGlass(filter: { pharmacyId?: string; userId?: string; id?: string }): Promise<BreakGlassView[]> {
    return (await this.app.db.query(
      `SELECT b.id, b.pharmacy_id AS "pharmacyId", b.user_id AS "userId", u.display_name AS "operatorName", b.reason,
              b.opened_at AS "openedAt", b.expires_at AS "expiresAt", b.closed_at AS "closedAt",
              (b.closed_at IS NULL AND b.expires_at > $4) AS active
         FROM break_glass_sessions b JOIN users u ON u.id = b.user_id
        WHERE ($1::uuid IS NULL OR b.pharmacy_id = $1::uuid) AND ($2::uuid IS NULL OR b.user_id = $2::uuid) AND ($3::uuid IS NULL OR b.id = $3::uuid)
        ORDER BY b.opened_at DESC LIMIT 200`,
      [filter.pharmacyId ?? null, filter.userId ?? null, filter.id ?? null, this.now()],
    )) as BreakGlassView[];
  }
}
