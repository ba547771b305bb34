import t from 'tap';
import { createLogger } from '../../src/logging/logger.js';
import { AlertingService } from '../../src/ops/alerting/alerting.service.js';
import { AlertStateRepository } from '../../src/ops/alerting/alert-state.repository.js';
import type { AlertNotification, AlertNotifier } from '../../src/ops/alerting/notifiers.js';
import { buildAlerting, buildStatusService, createOpsProviders } from '../../src/ops/ops.factory.js';
import { allJobs } from '../../src/scheduler/all-jobs.js';
import { runJobOnce } from '../../src/scheduler/job-runner.js';
import { opsJobs } from '../../src/ops/ops.jobs.js';
import { startTestApp } from '../helpers/app.js';

const H = 3_600_000;

class Recorder implements AlertNotifier {
  readonly name = 'recorder';
  sent: AlertNotification[] = [];
  async send(n: AlertNotification) {
    this.sent.push(n);
  }
}

t.test('missed and failed runs detected from the real job_runs journal and alerted', async (t) => {
  // Nightly backup at 02:30 Europe/Paris; "now" is 2026-03-10 12:00 UTC (13:00 in Paris).
  const app = await startTestApp(t, { BACKUP_CRON: '30 2 * * *', BACKUP_TIMEZONE: 'Europe/Paris' });
  const now = new Date('2026-03-10T12:00:00Z');
  const insert = (job: string, startedAt: Date, outcome: string, error: string | null = null) =>
    app.app.db.query(
      `INSERT INTO job_runs (job, started_at, finished_at, outcome, error, host, pid) VALUES ($1, $2, $3, $4, $5, 'test', 1)`,
      [job, startedAt, outcome === 'running' ? null : new Date(startedAt.getTime() + 60_000), outcome, error],
    );
  await insert('backup.nightly', new Date('2026-03-08T01:30:05Z'), 'succeeded'); // 8 March 02:30 Paris: ran
  // 9 March 02:30 Paris (01:30Z): missing.
  await insert('backup.nightly', new Date('2026-03-10T01:31:00Z'), 'failed', 'NAS injoignable'); // 10 March: ran, failed
  await insert('backup.health', new Date('2026-03-08T01:17:00Z'), 'succeeded');

  const jobs = (await createOpsProviders(app.app).jobRuns.jobs()) ?? [];
  const declared = allJobs(app.app, 'postgres://unused');
  t.same(jobs.map((j) => j.name).sort(), declared.filter((j) => !j.quiet).map((j) => j.name).sort(), 'the providers read the scheduler’s job list');
  t.match(declared.find((j) => j.name === 'backup.wal-ship'), { cron: '*/5 * * * * *', quiet: true }, 'the WAL shipper runs every 5 s, quietly');
  t.notOk(jobs.some((j) => j.name === 'backup.wal-ship'), 'a quiet job is left out of missed-run detection (it journals only passes that did something)');
  t.ok(jobs.some((j) => j.name === 'ops.alerts' && j.cron === '*/5 * * * *'), 'the alert evaluation is a scheduled job');

  const { collector } = buildAlerting(app.app);
  const signals = await collector.collect(now);
  const missedBackups = signals.jobs!.missed.filter((m) => m.job === 'backup.nightly').map((m) => m.expectedAt.toISOString());
  t.same(missedBackups, ['2026-03-09T01:30:00.000Z'], 'the one missing nightly backup');
  t.ok(signals.jobs!.missed.some((m) => m.job === 'backup.health'), 'the hourly health check was missed too');
  t.same(signals.jobs!.lastFailures, [{ job: 'backup.nightly', at: new Date('2026-03-10T01:31:00Z'), error: 'NAS injoignable' }], 'last run failed');

  const rec = new Recorder();
  const svc = new AlertingService(new AlertStateRepository(app.app.db), [rec], createLogger('silent'), 'https://officine.example');
  const r = await svc.evaluate(signals);
  const keys = r.notified.map((n) => n.key);
  t.ok(keys.includes('job_missed:backup.nightly'), 'missed nightly backup alerted');
  t.ok(keys.includes('job_failed:backup.nightly'), 'failed nightly backup alerted');
  t.match(rec.sent.find((n) => n.alert.key === 'job_missed:backup.nightly')?.alert.detail, /1 exécution\(s\) prévue\(s\)/);

  // Every run present (and succeeded): quiet.
  await insert('backup.nightly', new Date('2026-03-09T01:30:40Z'), 'succeeded');
  await insert('backup.nightly', new Date('2026-03-10T02:00:00Z'), 'succeeded');
  const later = await collector.collect(now);
  t.same(later.jobs!.missed.filter((m) => m.job === 'backup.nightly'), [], 'nothing missed once the run is there');
  t.same(later.jobs!.lastFailures, [], 'a later success clears the failure');
});

t.test('ops.alerts runs through the scheduler runner and is journaled', async (t) => {
  const app = await startTestApp(t);
  const job = opsJobs()[0]!;
  const r = await runJobOnce(app.app, job);
  t.equal(r.outcome, 'succeeded', 'ran');
  const rows = (await app.app.db.query(`SELECT outcome, details FROM job_runs WHERE job = 'ops.alerts'`)) as { outcome: string; details: { firing: string[] } }[];
  t.equal(rows.length, 1, 'recorded in job_runs');
  t.ok(rows[0]!.details.firing.includes('backup_stale:none'), 'no backup target configured → alert firing');
});

t.test('backups per target from backup_records; external backup alerts fire and resolve in their own scope', async (t) => {
  const app = await startTestApp(t, { BACKUP_TARGETS: 'nas,s3' });
  const at = new Date(Date.now() - 2 * H);
  await app.app.db.query(
    `INSERT INTO backup_records (id, started_at, finished_at, status, targets) VALUES ('b1', $1, $1, 'partial', $2)`,
    [at, JSON.stringify([{ target: 'nas', verified: true }, { target: 's3', verified: false, error: 'timeout' }])],
  );
  const status = await buildStatusService(app.app).collect();
  t.match(status.backups, { available: true, targets: [{ target: 'nas', lastBackupOk: true, lastBackupAt: at.toISOString() }, { target: 's3', lastBackupAt: null }] });
  const { collector } = buildAlerting(app.app);
  const rec = new Recorder();
  const svc = new AlertingService(new AlertStateRepository(app.app.db), [rec], createLogger('silent'), 'x');
  const r = await svc.evaluate(await collector.collect(new Date()));
  t.same(r.notified.filter((n) => n.key.startsWith('backup')).map((n) => n.key), ['backup_stale:s3'], 'only the target without a verified backup');

  const drillFailed = { code: 'backup.drill_failed', message: 'Le dernier exercice de restauration a échoué.', severity: 'critical' as const };
  let x = await svc.evaluateExternal('backup', [drillFailed], new Date());
  t.same(x.notified, [{ kind: 'firing', key: 'ext:backup:backup.drill_failed' }], 'external alert fires');
  x = await svc.evaluate(await collector.collect(new Date()));
  t.notOk(x.notified.some((n) => n.key.startsWith('ext:')), 'the rule evaluation does not resolve external alerts');
  x = await svc.evaluateExternal('backup', [], new Date());
  t.same(x.notified, [{ kind: 'resolved', key: 'ext:backup:backup.drill_failed' }], 'resolved when the module no longer reports it');
});
