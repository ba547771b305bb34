import type { Logger } from '../logging/logger.js';

/** Stable alert codes (the operations alerting will route them; until then, error logs). */
export const BackupAlert = {
  noRecentBackup: 'backup.no_verified_backup_24h',
  uploadFailed: 'backup.upload_failed',
  noRecentDrill: 'backup.no_successful_drill_35d',
  drillFailed: 'backup.drill_failed',
  walSpoolStale: 'backup.wal_spool_stale',
} as const;
export type BackupAlertCode = (typeof BackupAlert)[keyof typeof BackupAlert];

/** One alert: a stable code, a French message for the operator, and details. */
export interface Alert {
  code: BackupAlertCode;
  message: string;
  details?: Record<string, unknown>;
}

/** Where alerts go; the ops helper will provide an implementation that notifies people. */
export interface Alerter {
  raise(alert: Alert): void;
}

/** Until the operations alerting exists: one error-level log line per alert, with its code. */
export class LogAlerter implements Alerter {
  constructor(private readonly logger: Logger) {}

  raise(alert: Alert): void {
    this.logger.error({ alert: alert.code, ...alert.details }, alert.message);
  }
}

/** What the health check looks at. */
export interface BackupHealthInput {
  now: Date;
  lastVerifiedBackupAt: Date | null;
  lastDrill: { at: Date; ok: boolean; backupId: string } | null;
  lastSuccessfulDrillAt: Date | null;
}

const HOUR = 3_600_000;

/** Pure check behind the hourly `backup-health` job: which alerts are due now. */
export function evaluateBackupHealth(i: BackupHealthInput): Alert[] {
  const alerts: Alert[] = [];
  if (!i.lastVerifiedBackupAt || i.now.getTime() - i.lastVerifiedBackupAt.getTime() > 24 * HOUR) {
    alerts.push({
      code: BackupAlert.noRecentBackup,
      message: 'Aucune sauvegarde vérifiée depuis plus de 24 h.',
      details: { lastVerifiedBackupAt: i.lastVerifiedBackupAt?.toISOString() ?? null },
    });
  }
  if (i.lastDrill && !i.lastDrill.ok) {
    alerts.push({
      code: BackupAlert.drillFailed,
      message: `Le dernier exercice de restauration a échoué (sauvegarde ${i.lastDrill.backupId}).`,
      details: { drillAt: i.lastDrill.at.toISOString(), backupId: i.lastDrill.backupId },
    });
  }
  if (!i.lastSuccessfulDrillAt || i.now.getTime() - i.lastSuccessfulDrillAt.getTime() > 35 * 24 * HOUR) {
    alerts.push({
      code: BackupAlert.noRecentDrill,
      message: 'Aucun exercice de restauration réussi depuis plus de 35 jours.',
      details: { lastSuccessfulDrillAt: i.lastSuccessfulDrillAt?.toISOString() ?? null },
    });
  }
  return alerts;
}
