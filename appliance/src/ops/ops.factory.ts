import { createMailer } from '../mail/mailer.js';
import type { AppContext } from '../http/app-context.js';
import { AlertingService, AlertSignalsCollector, startAlertMonitor } from './alerting/alerting.service.js';
import { AlertStateRepository } from './alerting/alert-state.repository.js';
import { createNotifiers } from './alerting/notifiers.js';
import { registerStateGauges, startMetricsServer } from './metrics/metrics.server.js';
import { BackupAlert } from '../backup/backup-alerts.js';
import { BackupStatusService } from '../backup/backup-status.service.js';
import { allJobs } from '../scheduler/all-jobs.js';
import { agentsUnavailable, DbBackupStatusProvider, DbJobRunProvider, type OpsProviders } from './ops.providers.js';
import { databaseUrl, opsRuntime } from './ops-runtime.js';
import { ReadOnlyRepository } from './read-only/read-only.repository.js';
import { StatusService } from './status/status.service.js';
import { SystemProbe, TlsProbe } from './status/status.probes.js';

/**
 * The real providers: job runs from the scheduler's journal and job list, backups
 * from backup_records (with the latest drill report read from the targets when
 * `withDrills`, which costs a round trip to S3/NAS: status only, not the alert loop).
 * Agents are not tracked yet (agent module).
 */
export function createOpsProviders(app: AppContext, opts: { withDrills?: boolean } = {}): OpsProviders {
  const drill = async () => {
    const s = await new BackupStatusService(app).status();
    const r = s.drill.report;
    return r ? { source: s.drill.source, at: new Date(r.finishedAt), ok: r.ok } : null;
  };
  return {
    backups: new DbBackupStatusProvider(app.db, app.config, opts.withDrills && app.config.BACKUP_DRILL_PUBLIC_KEY ? drill : undefined),
    agents: agentsUnavailable,
    jobRuns: new DbJobRunProvider(app.db, () => allJobs(app, databaseUrl(app))),
  };
}

/** Wires the status service from an app context (CLI, console). */
export function buildStatusService(app: AppContext, providers: OpsProviders = createOpsProviders(app, { withDrills: true })): StatusService {
  return new StatusService({
    config: app.config,
    db: app.db,
    version: app.version,
    clock: app.clock,
    providers,
    system: new SystemProbe(),
    tls: new TlsProbe(app.config.TLS_CERT_FILE, app.config.PUBLIC_URL),
    readOnly: new ReadOnlyRepository(app.db),
  });
}

/** Wires the alert collector and service with the configured notifiers. */
export function buildAlerting(app: AppContext, providers: OpsProviders = createOpsProviders(app)): { collector: AlertSignalsCollector; service: AlertingService } {
  return {
    collector: new AlertSignalsCollector({
      db: app.db,
      dataDir: app.config.dataDir,
      providers,
      system: new SystemProbe(),
      tls: new TlsProbe(app.config.TLS_CERT_FILE, app.config.PUBLIC_URL),
      logger: app.logger,
    }),
    service: new AlertingService(new AlertStateRepository(app.db), createNotifiers(app.config, createMailer(app.config)), app.logger, app.config.PUBLIC_URL),
  };
}

/**
 * What `appliance serve` runs beside the HTTP server: the loopback metrics endpoint
 * and the periodic alert evaluation. Returns a function that stops both.
 */
export async function startServeBackground(app: AppContext): Promise<{ metricsUrl: string | null; stop(): Promise<void> }> {
  const providers = createOpsProviders(app);
  registerStateGauges(providers, opsRuntime(app).readOnlyWatcher, app.clock);
  // A busy metrics port (e.g. a second instance during an upgrade's health gate) must
  // not stop the web server: run without metrics and say so loudly.
  const metrics = await startMetricsServer(app).catch((err: unknown) => {
    app.logger.error({ err, port: app.config.METRICS_PORT }, 'metrics endpoint could not start; continuing without it');
    return null;
  });
  let stopAlerts = () => {};
  if (app.config.ALERT_CHECK_INTERVAL_S > 0) {
    const { collector, service } = buildAlerting(app, providers);
    stopAlerts = startAlertMonitor(collector, service, app.db, app.clock, app.config.ALERT_CHECK_INTERVAL_S, app.logger);
  }
  return {
    metricsUrl: metrics?.url ?? null,
    async stop() {
      stopAlerts();
      await metrics?.close();
    },
  };
}

/**
 * Routes the backup module's own alerts (failed upload, failed drill, no successful
 * drill for 35 days) to the operators' channels. "No verified backup in 24 h" is left
 * out: the `backup_stale` rule already reports it, per target. `source` scopes what a
 * call resolves: alerts of that source not in `alerts` are marked resolved.
 */
export async function notifyBackupAlerts(app: AppContext, alerts: readonly { code: string; message: string; details?: Record<string, unknown> }[], source = 'backup'): Promise<void> {
  const { service } = buildAlerting(app);
  const relevant = alerts
    .filter((a) => a.code !== BackupAlert.noRecentBackup)
    .map((a) => ({ ...a, severity: a.code === BackupAlert.noRecentDrill ? ('warning' as const) : ('critical' as const) }));
  await service.evaluateExternal(source, relevant, app.clock.now());
}
