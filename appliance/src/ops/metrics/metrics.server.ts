import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import type { AppContext } from '../../http/app-context.js';
import type { OpsProviders } from '../ops.providers.js';
import type { ReadOnlyWatcher } from '../read-only/read-only.watcher.js';
import { metricsRegistry } from './metrics.js';

/** The metrics host: fixed, never configurable, so nothing listens beyond loopback. */
export const METRICS_HOST = '127.0.0.1';

/**
 * Gauges computed at scrape time from the database and the providers: backup age
 * per target, job runs per job and outcome, the read-only switch.
 */
export function registerStateGauges(providers: OpsProviders, readOnly: ReadOnlyWatcher, clock: { now(): Date }): void {
  for (const name of ['officine_backup_age_seconds', 'officine_job_runs', 'officine_read_only']) metricsRegistry.removeSingleMetric(name);
  new client.Gauge({
    name: 'officine_backup_age_seconds',
    help: 'Seconds since the last successful backup, per target',
    labelNames: ['target'] as const,
    registers: [metricsRegistry],
    async collect() {
      this.reset();
      for (const t of (await providers.backups.targets()) ?? []) {
        if (t.lastBackupAt && t.lastBackupOk !== false) this.set({ target: t.target }, (clock.now().getTime() - t.lastBackupAt.getTime()) / 1000);
      }
    },
  });
  new client.Gauge({
    name: 'officine_job_runs',
    help: 'Scheduled job runs recorded over the last 7 days, by job and outcome',
    labelNames: ['job', 'outcome'] as const,
    registers: [metricsRegistry],
    async collect() {
      this.reset();
      const runs = await providers.jobRuns.runsSince(new Date(clock.now().getTime() - 7 * 86_400_000));
      for (const r of runs) this.inc({ job: r.job, outcome: r.outcome });
    },
  });
  new client.Gauge({
    name: 'officine_read_only',
    help: '1 while the read-only kill switch is on',
    registers: [metricsRegistry],
    collect() {
      this.set(readOnly.current().enabled ? 1 : 0);
    },
  });
}

/** A running metrics endpoint. */
export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` in the Prometheus text format on 127.0.0.1:METRICS_PORT only.
 * No authentication: loopback is the boundary (Prometheus or its agent runs on the
 * machine); it is never proxied by Caddy.
 */
export function startMetricsServer(app: AppContext, port = app.config.METRICS_PORT): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metricsRegistry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metricsRegistry.contentType, 'cache-control': 'no-store' }).end(body),
      (err: unknown) => {
        app.logger.warn({ err }, 'metrics collection failed');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, METRICS_HOST, () => {
      const { port: actual } = server.address() as AddressInfo;
      resolve({
        url: `http://${METRICS_HOST}:${actual}/metrics`,
        close: () => new Promise<void>((res) => server.close(() => res())),
      });
    });
  });
}
