import { recordAudit } from '../audit/audit.service.js';
import { rule, type Permission } from '../auth/policy.js';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import type { ApiContext, AuthUser, TenantContext } from '../http/route.js';
import { TenantAccessRepository } from './tenant-access.repository.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const forbidden = (detail: string) => new AppError(403, 'tenant_forbidden', 'Vous n’avez pas accès à cette pharmacie.', detail);

/**
 * Resolves the tenant of a `tenant: true` route from its `:pharmacyId` and decides
 * whether the caller may act on it for the route's permission:
 * - `user` / `pharmacy_admin`: their own pharmacy only;
 * - `group_admin`: a pharmacy that granted them one of the permission's grants;
 * - `super_admin`: only under an active break-glass on that pharmacy, and every
 *   such request is written to the audit log.
 * No valid context, no access: an unknown pharmacy is a 404, anything else a 403.
 */
export async function resolveTenant(ctx: ApiContext, app: AppContext, permission: Permission, user: AuthUser): Promise<TenantContext> {
  const pharmacyId = ctx.params.pharmacyId;
  if (!pharmacyId || !UUID_RE.test(pharmacyId)) throw new AppError(404, 'not_found', 'Ressource introuvable.', 'no valid pharmacyId in route');
  const repo = new TenantAccessRepository(app.db.manager);
  const pharmacy = await repo.pharmacy(pharmacyId.toLowerCase());
  if (!pharmacy) throw new AppError(404, 'not_found', 'Ressource introuvable.', 'unknown pharmacy');
  const r = rule(permission);
  switch (user.role) {
    case 'user':
    case 'pharmacy_admin':
      if (user.pharmacyId !== pharmacy.id) throw forbidden('not a member of this pharmacy');
      return { pharmacyId: pharmacy.id, groupementId: pharmacy.groupementId, via: 'member' };
    case 'group_admin':
      if (user.groupementId !== pharmacy.groupementId || !(await repo.hasGrant(pharmacy.id, user.id, r.groupGrants ?? []))) {
        throw forbidden('no grant from this pharmacy');
      }
      return { pharmacyId: pharmacy.id, groupementId: pharmacy.groupementId, via: 'grant' };
    case 'super_admin': {
      const bg = r.breakGlass ? await repo.activeBreakGlass(pharmacy.id, user.id, app.clock.now()) : undefined;
      if (!bg) throw forbidden('super-admin without an active break-glass on this pharmacy');
      await recordAudit(
        app.db,
        {
          action: 'break_glass.request',
          level: 'warning',
          actorUserId: user.id,
          actorRole: user.role,
          pharmacyId: pharmacy.id,
          targetType: 'break_glass',
          targetId: bg.id,
          ip: ctx.state.clientIp,
          requestId: ctx.state.requestId,
          details: { method: ctx.method, route: ctx.state.route ?? null },
        },
        app.clock.now(),
      );
      return { pharmacyId: pharmacy.id, groupementId: pharmacy.groupementId, via: 'break_glass', breakGlassId: bg.id };
    }
    default:
      throw forbidden('unknown role');
  }
}
