import type { Router } from '@koa/router';
import { z } from 'zod';
import { AuditRepository } from '../audit/audit.repository.js';
import { GRANT_PERMISSIONS } from '../auth/policy.js';
import { UserAdminService } from '../auth/user-admin.service.js';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import { currentTenant, currentUser, defineRoute, requestActor, type ApiContext } from '../http/route.js';
import { AccessService, BREAK_GLASS_MAX_MINUTES } from './access.service.js';

const pharmacyParams = z.object({ pharmacyId: z.uuid() });
const actorOf = (ctx: ApiContext) => {
  const { actorUserId, actorRole, ip, requestId } = requestActor(ctx);
  return { actorUserId, actorRole, ip, requestId };
};

/**
 * Pharmacy-scoped administration (users, grants to group admins, break-glass
 * visibility, audit trail), the group admin's list of granting pharmacies, and
 * the super-admin's break-glass and user-session controls.
 */
export function registerTenancyRoutes(router: Router, app: AppContext): void {
  const users = new UserAdminService(app);
  const access = new AccessService(app);

  /** The target user must belong to the route's pharmacy: an admin never reaches another tenant's account. */
  const userOfPharmacy = async (pharmacyId: string, userId: string) => {
    const u = await users.get(userId);
    if (!u || u.pharmacyId !== pharmacyId) throw new AppError(404, 'user_not_found', 'Utilisateur introuvable.', 'user not in this pharmacy');
    return u;
  };

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/pharmacies/:pharmacyId',
    permission: 'pharmacy.aggregates',
    tenant: true,
    params: pharmacyParams,
    handler: async (ctx) => {
      const rows = (await app.db.query(`SELECT id, name, finess, address FROM pharmacies WHERE id = $1`, [currentTenant(ctx).pharmacyId])) as unknown[];
      return { pharmacy: rows[0], access: currentTenant(ctx).via };
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/pharmacies/:pharmacyId/users',
    permission: 'pharmacy.admin',
    tenant: true,
    params: pharmacyParams,
    handler: async (ctx) => ({ users: await users.list({ pharmacyId: currentTenant(ctx).pharmacyId }) }),
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/pharmacies/:pharmacyId/users',
    permission: 'pharmacy.admin',
    tenant: true,
    params: pharmacyParams,
    body: z.object({ email: z.string().trim().email().max(254), displayName: z.string().trim().min(1).max(200), role: z.enum(['user', 'pharmacy_admin']) }),
    status: 201,
    summary: 'Invites a colleague: pending account, verification email.',
    handler: async (ctx, { body }) => ({ user: await users.create({ ...body, pharmacyId: currentTenant(ctx).pharmacyId }, actorOf(ctx)) }),
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/pharmacies/:pharmacyId/users/:userId/disable',
    permission: 'pharmacy.admin',
    tenant: true,
    params: pharmacyParams.extend({ userId: z.uuid() }),
    handler: async (ctx, { params }) => {
      const t = currentTenant(ctx);
      if (params.userId === currentUser(ctx).id) throw new AppError(422, 'cannot_disable_self', 'Vous ne pouvez pas désactiver votre propre compte.', 'self-disable');
      await userOfPharmacy(t.pharmacyId, params.userId);
      await users.disable(params.userId, actorOf(ctx));
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/pharmacies/:pharmacyId/users/:userId/role',
    permission: 'pharmacy.admin',
    tenant: true,
    params: pharmacyParams.extend({ userId: z.uuid() }),
    body: z.object({ role: z.enum(['user', 'pharmacy_admin']) }),
    summary: 'Makes a colleague an admin of the pharmacy, or a plain user again.',
    handler: async (ctx, { params, body }) => {
      const t = currentTenant(ctx);
      if (params.userId === currentUser(ctx).id) throw new AppError(422, 'cannot_change_own_role', 'Vous ne pouvez pas changer votre propre rôle.', 'self role change');
      await userOfPharmacy(t.pharmacyId, params.userId);
      return { changed: await users.changeRole(params.userId, body.role, actorOf(ctx)) };
    },
  });

  defineRoute(router, app, {
    method: 'DELETE',
    path: '/api/pharmacies/:pharmacyId/users/:userId/sessions',
    permission: 'pharmacy.admin',
    tenant: true,
    params: pharmacyParams.extend({ userId: z.uuid() }),
    handler: async (ctx, { params }) => {
      const t = currentTenant(ctx);
      await userOfPharmacy(t.pharmacyId, params.userId);
      return { revoked: await users.revokeSessions(params.userId, { ...actorOf(ctx), pharmacyId: t.pharmacyId }) };
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/pharmacies/:pharmacyId/grants',
    permission: 'pharmacy.admin',
    tenant: true,
    params: pharmacyParams,
    handler: async (ctx) => ({ grants: await access.listGrants(currentTenant(ctx).pharmacyId) }),
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/pharmacies/:pharmacyId/grants',
    permission: 'pharmacy.admin',
    tenant: true,
    params: pharmacyParams,
    body: z.object({ granteeUserId: z.uuid(), permission: z.enum(GRANT_PERMISSIONS) }),
    status: 201,
    handler: async (ctx, { body }) => ({ id: await access.grant(currentTenant(ctx).pharmacyId, body.granteeUserId, body.permission, actorOf(ctx)) }),
  });

  defineRoute(router, app, {
    method: 'DELETE',
    path: '/api/pharmacies/:pharmacyId/grants/:grantId',
    permission: 'pharmacy.admin',
    tenant: true,
    params: pharmacyParams.extend({ grantId: z.uuid() }),
    handler: async (ctx, { params }) => {
      await access.revokeGrant(currentTenant(ctx).pharmacyId, params.grantId, actorOf(ctx));
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/pharmacies/:pharmacyId/break-glass',
    permission: 'pharmacy.admin',
    tenant: true,
    params: pharmacyParams,
    summary: 'Break-glass accesses opened on this pharmacy (visible to its admins).',
    handler: async (ctx) => ({ breakGlass: await access.listBreakGlass({ pharmacyId: currentTenant(ctx).pharmacyId }) }),
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/pharmacies/:pharmacyId/audit',
    permission: 'pharmacy.admin',
    tenant: true,
    params: pharmacyParams,
    query: z.object({ before: z.string().regex(/^\d{1,18}$/).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
    handler: async (ctx, { query }) => {
      const rows = await new AuditRepository(app.db.manager).listForPharmacy(currentTenant(ctx).pharmacyId, query.before, query.limit);
      return { entries: rows.map(({ prevHash: _p, hash: _h, ...r }) => r) };
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/group/pharmacies',
    permission: 'group.read',
    tenant: false,
    summary: 'Pharmacies that granted the caller a permission.',
    handler: async (ctx) => ({ pharmacies: await access.grantedPharmacies(currentUser(ctx).id) }),
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/admin/break-glass',
    permission: 'ops.admin',
    tenant: false,
    body: z.object({ pharmacyId: z.uuid(), reason: z.string().trim().min(20).max(2000), durationMinutes: z.number().int().min(1).max(BREAK_GLASS_MAX_MINUTES) }),
    status: 201,
    handler: async (ctx, { body }) => ({ breakGlass: await access.openBreakGlass(body, { ...actorOf(ctx), actorUserId: currentUser(ctx).id }) }),
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/admin/break-glass',
    permission: 'ops.admin',
    tenant: false,
    handler: async (ctx) => ({ breakGlass: await access.listBreakGlass({ userId: currentUser(ctx).id }) }),
  });

  defineRoute(router, app, {
    method: 'DELETE',
    path: '/api/admin/break-glass/:breakGlassId',
    permission: 'ops.admin',
    tenant: false,
    params: z.object({ breakGlassId: z.uuid() }),
    handler: async (ctx, { params }) => {
      await access.closeBreakGlass(params.breakGlassId, { ...actorOf(ctx), actorUserId: currentUser(ctx).id });
    },
  });

  defineRoute(router, app, {
    method: 'DELETE',
    path: '/api/admin/users/:userId/sessions',
    permission: 'ops.admin',
    tenant: false,
    params: z.object({ userId: z.uuid() }),
    handler: async (ctx, { params }) => {
      const u = await users.get(params.userId);
      if (!u) throw new AppError(404, 'user_not_found', 'Utilisateur introuvable.', 'unknown user');
      return { revoked: await users.revokeSessions(params.userId, { ...actorOf(ctx), pharmacyId: u.pharmacyId }) };
    },
  });
}
