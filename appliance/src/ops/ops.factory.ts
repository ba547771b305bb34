import { createMailer } from '../mail/mailer.js';
import type { AppContext } from '../http/app-context.js';
import { AlertingService, AlertSignalsCollector, startAlertMonitor } from './alerting/alerting.service.js';
import { AlertStateRepository } from './alerting/alert-state.repository.js';
import { createNotifiers } from './alerting/notifiers.js';
import { registerStateGauges, startMetricsServer } from './metrics/metrics.server.js';
import { createOpsProviders, type OpsProviders } from './ops.providers.js';
import { opsRuntime } from './ops-runtime.js';
import { ReadOnlyRepository } from './read-only/read-only.repository.js';
import { StatusService } from './status/status.service.js';
import { SystemProbe, TlsProbe } from './status/status.probes.js';

/** Wires the status service from an app context (CLI, console). */
export function buildStatusService(app: AppContext, providers: OpsProviders = createOpsProviders()): StatusService {
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
export function buildAlerting(app: AppContext, providers: OpsProviders = createOpsProviders()): { collector: AlertSignalsCollector; service: AlertingService } {
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
  const providers = createOpsProviders();
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
