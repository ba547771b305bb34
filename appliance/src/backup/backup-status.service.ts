import type { AppContext } from '../http/app-context.js';
import { evaluateBackupHealth, LogAlerter, type Alert, type Alerter } from './backup-alerts.js';
import { BackupRecordRepository, type BackupRecord } from './backup-record.repository.js';
import { latestDrillReport, type DrillReport } from './drill.service.js';
import type { BackupTarget } from './targets/backup-target.js';
import { openTarget } from './targets/target-factory.js';

/** What `appliance backup status` shows (and what `appliance status` will fold in). */
export interface BackupStatus {
  lastVerifiedBackup: BackupRecord | null;
  recent: BackupRecord[];
  drill: { report: DrillReport | null; lastSuccess: DrillReport | null; source: string | null; trusted: boolean };
  alerts: Alert[];
}

/**
 * Reads the backup journal and the newest signed drill report from the targets,
 * and decides which backup alerts are due.
 */
export class BackupStatusService {
  constructor(
    private readonly app: AppContext,
    private readonly opts: { targets?: BackupTarget[]; alerter?: Alerter } = {},
  ) {}

  async status(): Promise<BackupStatus> {
    const repo = new BackupRecordRepository(this.app.db);
    const [lastVerifiedBackup, recent] = await Promise.all([repo.latestVerified(), repo.recent(10)]);
    const drillKey = this.app.config.BACKUP_DRILL_PUBLIC_KEY;
    let drill: BackupStatus['drill'] = { report: null, lastSuccess: null, source: null, trusted: !!drillKey };
    if (drillKey) {
      const targets = this.opts.targets ?? (await Promise.all(this.app.config.BACKUP_TARGETS.map((n) => openTarget(this.app.config, n))));
      try {
        for (const t of targets) {
          const r = await latestDrillReport(t, [drillKey]).catch(() => null);
          if (r?.report && (!drill.report || r.report.id > drill.report.id)) drill = { ...r, source: t.name, trusted: true };
          if (r?.lastSuccess && (!drill.lastSuccess || r.lastSuccess.id > drill.lastSuccess.id)) drill.lastSuccess = r.lastSuccess;
        }
      } finally {
        if (!this.opts.targets) await Promise.all(targets.map((t) => t.close()));
      }
    }
    const alerts = evaluateBackupHealth({
      now: this.app.clock.now(),
      lastVerifiedBackupAt: lastVerifiedBackup?.finishedAt ?? null,
      lastDrill: drill.report ? { at: new Date(drill.report.finishedAt), ok: drill.report.ok, backupId: drill.report.backupId ?? '?' } : null,
      lastSuccessfulDrillAt: drill.lastSuccess ? new Date(drill.lastSuccess.finishedAt) : null,
    });
    return { lastVerifiedBackup, recent, drill, alerts };
  }

  raise(alerts: Alert[]): void {
    const alerter = this.opts.alerter ?? new LogAlerter(this.app.logger);
    for (const a of alerts) alerter.raise(a);
  }
}
