import type { Router } from '@koa/router';
import type { AppContext } from '../http/app-context.js';
import { pendingMigrations } from '../db/migrator.js';

/**
 * Liveness and readiness for Caddy, systemd, Docker and the upgrade health gate.
 * Bodies are minimal: a status word, nothing about the internals.
 */
export function registerHealthRoutes(router: Router, app: AppContext): void {
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    let ready = false;
    try {
      await app.db.query('SELECT 1');
      ready = (await pendingMigrations(app.db)).length === 0;
    } catch (err) {
      app.logger.warn({ err }, 'readiness check failed');
    }
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready' };
  });
}
