import type { Router } from '@koa/router';
import { z } from 'zod';
import { recordAudit } from '../audit/audit.service.js';
import type { AppContext } from '../http/app-context.js';
import { currentUser, defineRoute, requestActor, type ApiContext } from '../http/route.js';
import { GdprService } from './gdpr.service.js';
import { RegisterService } from './register.service.js';

const formatQuery = z.object({ format: z.enum(['json', 'csv']).default('json') });

function attachment(ctx: ApiContext, name: string, format: 'json' | 'csv', json: unknown, csv: () => string): void {
  ctx.set('Content-Disposition', `attachment; filename="${name}.${format}"`);
  if (format === 'csv') {
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = csv();
  } else {
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = JSON.stringify(json, null, 2);
  }
}

/** Users' own rights (self) and the processing register for operators and pharmacy admins. */
export function registerGdprRoutes(router: Router, app: AppContext): void {
  const gdpr = new GdprService(app);
  const register = new RegisterService(app);

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/me/data-export',
    permission: 'self',
    tenant: false,
    query: formatQuery,
    summary: 'Export of every personal datum about the caller (JSON or CSV).',
    handler: async (ctx, { query }) => {
      const user = currentUser(ctx);
      const data = await gdpr.exportData(user.id);
      await recordAudit(app.db, { ...requestActor(ctx), action: 'gdpr.exported', targetType: 'user', targetId: user.id, details: { format: query.format } }, app.clock.now());
      attachment(ctx, 'mes-donnees-officine', query.format, data, () => GdprService.toCsv(data));
    },
  });

  defineRoute(router, app, {
    method: 'PATCH',
    path: '/api/me/profile',
    permission: 'self',
    tenant: false,
    body: z
      .object({
        displayName: z.string().trim().min(1).max(200).optional(),
        email: z.email().max(254).optional(),
        password: z.string().min(1).max(1024).optional(),
      })
      .strict(),
    summary: 'Rectification: display name, email (with password).',
    handler: async (ctx, { body }) => {
      await gdpr.rectify(currentUser(ctx).id, body, requestActor(ctx));
    },
  });

  defineRoute(router, app, {
    method: 'PUT',
    path: '/api/me/email-preferences',
    permission: 'self',
    tenant: false,
    body: z.object({ optOut: z.boolean() }).strict(),
    summary: 'Opt out of (or back into) non-essential emails.',
    handler: async (ctx, { body }) => {
      await gdpr.setEmailOptOut(currentUser(ctx).id, body.optOut, requestActor(ctx));
      return { optOut: body.optOut };
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/me/erasure',
    permission: 'self',
    tenant: false,
    body: z.object({ password: z.string().min(1).max(1024) }).strict(),
    status: 202,
    summary: 'Erasure request: account disabled now, personal data purged within 30 days.',
    handler: async (ctx, { body }) => {
      const { purgeBy } = await gdpr.requestErasure(currentUser(ctx).id, body.password, requestActor(ctx));
      return { message: 'Votre compte est désactivé. Vos données personnelles seront supprimées au plus tard à la date indiquée.', purgeBy: purgeBy.toISOString() };
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/admin/gdpr/register',
    permission: 'ops.admin',
    tenant: false,
    query: formatQuery,
    summary: 'Processing register and sub-processors (operator).',
    handler: async (ctx, { query }) => {
      const r = await register.get();
      attachment(ctx, 'registre-des-traitements', query.format, r, () => RegisterService.toCsv(r));
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/pharmacies/:pharmacyId/gdpr/register',
    permission: 'pharmacy.admin',
    tenant: true,
    params: z.object({ pharmacyId: z.uuid() }),
    query: formatQuery,
    summary: 'Processing register and sub-processors (pharmacy admin).',
    handler: async (ctx, { query }) => {
      const r = await register.get();
      attachment(ctx, 'registre-des-traitements', query.format, r, () => RegisterService.toCsv(r));
    },
  });
}
