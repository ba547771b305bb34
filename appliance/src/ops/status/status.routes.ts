import type { Router } from '@koa/router';
import type { AppContext } from '../../http/app-context.js';
import { defineRoute } from '../../http/route.js';
import { buildStatusService } from '../ops.factory.js';

/** The super-admin's status page: the same report as `appliance status --json`. */
export function registerStatusRoutes(router: Router, app: AppContext): void {
  defineRoute(router, app, {
    method: 'GET',
    path: '/api/admin/status',
    permission: 'ops.admin',
    tenant: false,
    summary: 'Appliance status: processes, PostgreSQL, system, TLS, backups, agents, read-only, migrations.',
    handler: () => buildStatusService(app).collect(),
  });
}
