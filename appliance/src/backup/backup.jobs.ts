import type { AppContext } from '../http/app-context.js';
import type { ScheduledJob } from '../scheduler/job.js';
import { BackupStatusService } from './backup-status.service.js';
import { notifyBackupAlerts } from '../ops/ops.factory.js';
import { BackupService } from './backup.service.js';
import { configuredTargets, openTarget } from './targets/target-factory.js';

/** The nightly backup (BACKUP_CRON, BACKUP_TIMEZONE) and the hourly check that raises the backup alerts. */
export function backupJobs(app: AppContext, dbUrl: string): ScheduledJob[] {
  return [
    {
      name: 'backup.nightly',
      cron: app.config.BACKUP_CRON,
      timezone: app.config.BACKUP_TIMEZONE,
      run: async ({ app: a }) => {
        const targets = await Promise.all(configuredTargets(a.config).map((n) => openTarget(a.config, n)));
        try {
          const r = await new BackupService({ ...a, dbUrl, targets }).run();
          if (r.status === 'failed') throw new Error(`backup ${r.id} failed on every target`);
          return { backupId: r.id, status: r.status, targets: r.targets.map((t) => ({ target: t.target, verified: t.verified, removed: t.retention?.removed.length ?? 0 })) };
        } finally {
          await Promise.all(targets.map((t) => t.close()));
        }
      },
    },
    {
      name: 'backup.health',
      cron: '17 * * * *',
      run: async ({ app: a }) => {
        const svc = new BackupStatusService(a);
        const s = await svc.status();
        svc.raise(s.alerts);
        await notifyBackupAlerts(a, s.alerts);
        return { alerts: s.alerts.map((x) => x.code) };
      },
    },
  ];
}
