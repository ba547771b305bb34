import type { Router } from '@koa/router';
import { z } from 'zod';
import type { AppContext } from '../../http/app-context.js';
import { currentUser, defineRoute, requestActor } from '../../http/route.js';
import { opsRuntime } from '../ops-runtime.js';

const ToggleBody = z.union([
  z.object({ enabled: z.literal(true), reason: z.string() }).strict(),
  z.object({ enabled: z.literal(false) }).strict(),
]);

/**
 * The kill switch over HTTP: a public state for the UI banner (no reason, no actor),
 * and the super-admin view and toggle (`ops.admin`). Logic lives in ReadOnlyService.
 */
export function registerReadOnlyRoutes(router: Router, app: AppContext): void {
  defineRoute(router, app, {
    method: 'GET',
    path: '/api/ops/read-only',
    permission: 'public',
    tenant: false,
    rateLimit: 'none',
    summary: 'Whether the appliance is read-only (UI banner).',
    handler: () => {
      const s = opsRuntime(app).readOnlyWatcher.current();
      return { readOnly: s.enabled, since: s.enabled ? s.since : null };
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/api/admin/read-only',
    permission: 'ops.admin',
    tenant: false,
    summary: 'Read-only state with reason and actor.',
    handler: () => opsRuntime(app).readOnlyService.status(),
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/admin/read-only',
    permission: 'ops.admin',
    tenant: false,
    body: ToggleBody,
    summary: 'Switch read-only mode on (with a reason) or off.',
    handler: async (ctx, { body }) => {
      const user = currentUser(ctx);
      const actor = { audit: requestActor(ctx), label: `${user.displayName} (super-admin)` };
      const { readOnlyService: svc, readOnlyWatcher } = opsRuntime(app);
      const state = body.enabled ? await svc.enable(body.reason, actor) : await svc.disable(actor);
      readOnlyWatcher.observe(state);
      return state;
    },
  });
}
