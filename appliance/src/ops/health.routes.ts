import type { Router } from '@koa/router';
import type { AppContext } from '../http/app-context.js';
import { pendingMigrations } from '../db/migrator.js';
import { defineRoute } from '../http/route.js';

/**
 * Liveness and readiness for Caddy, systemd, Docker and the upgrade health gate.
 * Bodies are minimal: a status word, nothing about the internals.
 */
export function registerHealthRoutes(router: Router, app: AppContext): void {
  defineRoute(router, app, {
    method: 'GET',
    path: '/healthz',
    permission: 'public',
    tenant: false,
    rateLimit: 'none',
    handler: () => ({ status: 'ok' }),
  });

  defineRoute(router, app, {
    method: 'GET',
    path: '/readyz',
    permission: 'public',
    tenant: false,
    rateLimit: 'none',
    handler: async (ctx) => {
    let ready = false;
    try {
      await app.db.query('SELECT 1');
      ready = (await pendingMigrations(app.db)).length === 0;
    } catch (err) {
      app.logger.warn({ err }, 'readiness check failed');
    }
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready' };
    },
  });
}
