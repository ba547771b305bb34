import type { Router } from '@koa/router';
import { z } from 'zod';
import type { AppContext } from '../../http/app-context.js';
import { ValidationError } from '../../http/errors.js';
import { requireSuperAdmin } from '../admin-guard.js';
import { opsRuntime } from '../ops-runtime.js';

const ToggleBody = z.union([
  z.object({ enabled: z.literal(true), reason: z.string() }).strict(),
  z.object({ enabled: z.literal(false) }).strict(),
]);

/**
 * The kill switch over HTTP: a public state for the UI banner (no reason, no actor),
 * and the super-admin view and toggle. Logic lives in ReadOnlyService.
 */
export function registerReadOnlyRoutes(router: Router, app: AppContext): void {
  router.get('/api/ops/read-only', (ctx) => {
    const s = opsRuntime(app).readOnlyWatcher.current();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { readOnly: s.enabled, since: s.enabled ? s.since : null };
  });

  router.get('/api/admin/read-only', async (ctx) => {
    await requireSuperAdmin(ctx, app);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await opsRuntime(app).readOnlyService.status();
  });

  router.post('/api/admin/read-only', async (ctx) => {
    const actor = await requireSuperAdmin(ctx, app);
    const parsed = ToggleBody.safeParse(ctx.request.body);
    if (!parsed.success) {
      throw new ValidationError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
    }
    const svc = opsRuntime(app).readOnlyService;
    ctx.body = parsed.data.enabled ? await svc.enable(parsed.data.reason, actor) : await svc.disable(actor);
  });
}
