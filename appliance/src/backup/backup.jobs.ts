import type { AppContext } from '../http/app-context.js';
import type { ScheduledJob } from '../scheduler/job.js';
import { BackupStatusService } from './backup-status.service.js';
import { notifyBackupAlerts } from '../ops/ops.factory.js';
import { BackupService } from './backup.service.js';
import { configuredTargets, openTarget } from './targets/target-factory.js';
import { LogAlerter, type Alert } from './backup-alerts.js';
import { shipConfiguredWalSpool } from './wal-archive.service.js';
import { WAL_SHIP_INTERVAL_S, WAL_SHIP_RETRY_MS } from './wal-spool.js';

/** How often the WAL shipper looks at the spool (node-cron, with a seconds field). */
export const WAL_SHIP_CRON = `*/${WAL_SHIP_INTERVAL_S} * * * * *`;
/** Re-evaluate the spool alert with the operators' channels at most this often. */
const WAL_NOTIFY_MS = 60_000;

/**
 * The nightly backup (BACKUP_CRON, BACKUP_TIMEZONE), the hourly check that raises the
 * backup alerts, and the WAL shipper (every 5 s: what PostgreSQL's archive_command
 * spooled goes out sealed to the targets; RPO = archive_timeout + a few seconds).
 */
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
    walShipJob(),
  ];
}

/**
 * `backup.wal-ship`: one shipper pass every 5 s under the scheduler lock (quiet: only
 * passes that shipped, dropped or failed are journaled). After a pass that shipped
 * nothing because every target failed, it waits a minute before trying again (as
 * PostgreSQL did with a failing archive_command); so does a pass that fails outright
 * (a failed run is journaled). Its alerts (target failures, spool
 * older than BACKUP_WAL_SPOOL_MAX_AGE_S) are logged and routed to the operators.
 */
export function walShipJob(): ScheduledJob {
  let retryAt = 0;
  let notifiedAt = 0;
  let notifiedCodes = '';
  return {
    name: 'backup.wal-ship',
    cron: WAL_SHIP_CRON,
    quiet: true,
    run: async ({ app: a }) => {
      const now = a.clock.now().getTime();
      if (now < retryAt) return;
      const alerts: Alert[] = [];
      const log = new LogAlerter(a.logger);
      const r = await shipConfiguredWalSpool(a.config, a.logger, { raise: (x) => (alerts.push(x), log.raise(x)) }, () => a.clock.now()).catch((err: unknown) => {
        retryAt = now + WAL_SHIP_RETRY_MS; // e.g. an unreadable spool: one failed run a minute, not one every 5 s
        throw err;
      });
      retryAt = r.failed ? now + WAL_SHIP_RETRY_MS : 0;
      const codes = [...new Set(alerts.map((x) => x.code))].sort().join(',');
      if (codes !== notifiedCodes || (codes !== '' && now - notifiedAt >= WAL_NOTIFY_MS)) {
        await notifyBackupAlerts(a, alerts, 'wal-spool');
        notifiedCodes = codes;
        notifiedAt = now;
      }
      if (r.shipped.length === 0 && r.discarded === 0 && !r.failed) return;
      return { shipped: r.shipped.length, failed: r.failed, remaining: r.remaining, oldestAgeS: r.oldestAgeS, discarded: r.discarded };
    },
  };
}
