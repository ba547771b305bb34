import t from 'tap';
import { BackupAlert, evaluateBackupHealth } from '../../src/backup/backup-alerts.js';

const now = new Date('2026-11-21T12:00:00Z');
const h = (n: number) => new Date(now.getTime() - n * 3_600_000);

t.test('backup alerts: stable codes for each condition', async (t) => {
  const healthy = { now, lastVerifiedBackupAt: h(10), lastDrill: { at: h(24 * 20), ok: true, backupId: 'x' }, lastSuccessfulDrillAt: h(24 * 20) };
  t.same(evaluateBackupHealth(healthy), [], 'fresh backup and recent successful drill: nothing');

  const codes = (i: Parameters<typeof evaluateBackupHealth>[0]) => evaluateBackupHealth(i).map((a) => a.code);
  t.same(codes({ ...healthy, lastVerifiedBackupAt: h(25) }), [BackupAlert.noRecentBackup], 'no verified backup in 24 h');
  t.same(codes({ ...healthy, lastVerifiedBackupAt: null }), [BackupAlert.noRecentBackup], 'never backed up');
  t.same(codes({ ...healthy, lastSuccessfulDrillAt: h(24 * 36), lastDrill: { at: h(24 * 36), ok: true, backupId: 'x' } }), [BackupAlert.noRecentDrill], 'no successful drill in 35 days');
  t.same(
    codes({ ...healthy, lastDrill: { at: h(1), ok: false, backupId: 'y' } }),
    [BackupAlert.drillFailed],
    'failed drill (an older success within 35 days does not hide it)',
  );
  t.same(codes({ now, lastVerifiedBackupAt: null, lastDrill: null, lastSuccessfulDrillAt: null }), [BackupAlert.noRecentBackup, BackupAlert.noRecentDrill], 'fresh install: both');
  t.same(Object.values(BackupAlert), ['backup.no_verified_backup_24h', 'backup.upload_failed', 'backup.no_successful_drill_35d', 'backup.drill_failed', 'backup.wal_spool_stale'], 'codes are stable');
});
