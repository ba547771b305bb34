import type { Router } from '@koa/router';
import { z } from 'zod';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import { defineRoute, requestActor, type ApiContext } from '../http/route.js';
import { UpgradeStagingService } from './upgrade-staging.service.js';

const actor = (ctx: ApiContext) => {
  const { actorUserId, actorRole, ip, requestId } = requestActor(ctx);
  return { actorUserId, actorRole, ip, requestId };
};

/**
 * Upgrades from the super-admin page: upload + verify a signed bundle, then ask for
 * it to be applied (the history is the audit log's `upgrade.*` entries).
 */
export function registerUpgradeRoutes(router: Router, app: AppContext): void {
  const staging = new UpgradeStagingService(app);

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/admin/upgrades',
    permission: 'ops.admin',
    tenant: false,
    status: 201,
    summary: 'Upload a release bundle (application/octet-stream body); it is verified and kept when valid.',
    handler: async (ctx) => {
      if (!ctx.is('application/octet-stream')) throw new AppError(415, 'upgrade_content_type', 'Envoyez l’archive telle quelle (application/octet-stream).');
      return staging.stage(ctx.req, actor(ctx));
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/admin/upgrades/:id/apply',
    permission: 'ops.admin',
    tenant: false,
    params: z.object({ id: z.string().regex(/^[0-9a-f]{24}$/) }),
    summary: 'Record the request to apply a verified bundle (applied outside the web process).',
    handler: async (ctx, { params }) => {
      const r = await staging.requestApply(params.id, actor(ctx));
      return {
        ...r,
        message: `Demande enregistrée. La mise à jour s’applique hors du serveur web, qu’elle arrête et redémarre : l’unité officine-upgrade la prend en charge dans quelques secondes (sauvegarde, migration, bascule et retour automatique en cas d’échec ; suivi dans l’historique ci-dessous). Sans systemd, en console : « ${r.command} ».`,
      };
    },
  });
}
