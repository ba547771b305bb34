import type { Router } from '@koa/router';
import type { AppContext } from '../http/app-context.js';
import { defineRoute } from '../http/route.js';
import { BackupStatusService } from './backup-status.service.js';

/**
 * The super-admin's backup page reads what `appliance backup status` prints: the
 * journal of recent runs, the last verified backup, the newest signed restore-drill
 * report and the alerts due. Running and restoring stay in the console.
 */
export function registerBackupRoutes(router: Router, app: AppContext): void {
  defineRoute(router, app, {
    method: 'GET',
    path: '/api/admin/backups',
    permission: 'ops.admin',
    tenant: false,
    summary: 'Backup journal, last verified backup, newest drill report, due alerts.',
    handler: () => new BackupStatusService(app).status(),
  });
}
