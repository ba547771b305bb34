import type { DataSource } from 'typeorm';
import type { Logger } from '../../logging/logger.js';
import { pruneRequestStats, sumRequestStats } from '../metrics/request-stats.js';
import type { OpsProviders } from '../ops.providers.js';
import type { SystemProbe, TlsProbe } from '../status/status.probes.js';
import { DEFAULT_THRESHOLDS, evaluateRules, type Alert, type AlertSignals, type AlertThresholds } from './alert-rules.js';
import type { AlertStateRepository } from './alert-state.repository.js';
import { detectMissedRuns } from './missed-runs.js';
import type { AlertNotification, AlertNotifier, NotificationKind } from './notifiers.js';

const MIN = 60_000;
const EXTERNAL_PREFIX = 'ext:';

/** An alert another module computed (stable code, French message). */
export interface ExternalAlert {
  code: string;
  message: string;
  severity?: 'warning' | 'critical';
  details?: Record<string, unknown>;
}
const H = 60 * MIN;

/** Gathers one snapshot of every signal the rules need; each source fails on its own (null). */
export class AlertSignalsCollector {
  constructor(
    private readonly d: { db: DataSource; dataDir: string; providers: OpsProviders; system: SystemProbe; tls: TlsProbe; logger: Logger },
  ) {}

  private async safe<T>(what: string, fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      this.d.logger.warn({ err, signal: what }, 'alert signal unavailable');
      return null;
    }
  }

  async collect(now: Date): Promise<AlertSignals> {
    const { d } = this;
    const [http, disks, certificate, backups, agents, jobs] = await Promise.all([
      this.safe('http', async () => ({
        last5m: await sumRequestStats(d.db, new Date(now.getTime() - 5 * MIN), now),
        previousHour: await sumRequestStats(d.db, new Date(now.getTime() - 65 * MIN), new Date(now.getTime() - 5 * MIN)),
      })),
      this.safe('disks', async () => (await d.system.disks(d.dataDir)).map((x) => ({ mount: x.mount, usePercent: x.usePercent }))),
      this.safe('certificate', () => d.tls.certificate()),
      this.safe('backups', () => d.providers.backups.targets()),
      this.safe('agents', () => d.providers.agents.agents()),
      this.safe('jobs', async () => {
        const specs = await d.providers.jobRuns.jobs();
        if (!specs) return null;
        const first = await d.providers.jobRuns.firstRunAt();
        const since = new Date(Math.max(now.getTime() - 48 * H, first?.getTime() ?? now.getTime()));
        const runs = await d.providers.jobRuns.runsSince(new Date(since.getTime() - H));
        const last = new Map<string, (typeof runs)[number]>();
        for (const r of runs) if (r.outcome !== 'running') last.set(r.job, r);
        return {
          missed: detectMissedRuns(specs, runs, { now, since }),
          lastFailures: [...last.values()].filter((r) => r.outcome === 'failed').map((r) => ({ job: r.job, at: r.startedAt, error: r.error ?? null })),
        };
      }),
    ]);
    return { now, http, disks, certificate, backups, agents, jobs };
  }
}

/** What one evaluation did. */
export interface EvaluationReport {
  firing: Alert[];
  notified: { kind: NotificationKind; key: string }[];
  deliveryErrors: string[];
}

/**
 * Turns rule results into notifications: a new alert is sent once, a still-firing
 * one is reminded every `reminderH` hours, a cleared one is sent as resolved. State
 * lives in the database so several evaluators never double-send.
 */
export class AlertingService {
  constructor(
    private readonly states: AlertStateRepository,
    private readonly notifiers: readonly AlertNotifier[],
    private readonly logger: Logger,
    private readonly appliance: string,
    private readonly thresholds: AlertThresholds = DEFAULT_THRESHOLDS,
    private readonly reminderH = 24,
  ) {}

  async evaluate(signals: AlertSignals): Promise<EvaluationReport> {
    return this.apply(evaluateRules(signals, this.thresholds), signals.now, (key) => !key.startsWith(EXTERNAL_PREFIX));
  }

  /**
   * Alerts computed by another module's own check (e.g. the backup module's hourly
   * `backup.health`): the complete current set for `source`, so that what is absent
   * is resolved. Keys are `ext:<source>:<code>`; `evaluate` never resolves them.
   */
  async evaluateExternal(source: string, alerts: readonly ExternalAlert[], now: Date): Promise<EvaluationReport> {
    const prefix = `${EXTERNAL_PREFIX}${source}:`;
    const mapped: Alert[] = alerts.map((a) => ({
      key: prefix + a.code,
      rule: a.code,
      severity: a.severity ?? 'warning',
      title: a.message,
      detail: a.details ? `${a.message}\n${Object.entries(a.details).map(([k, v]) => `${k} : ${String(v)}`).join('\n')}` : a.message,
    }));
    return this.apply(mapped, now, (key) => key.startsWith(prefix));
  }

  private async apply(firing: Alert[], now: Date, owns: (key: string) => boolean): Promise<EvaluationReport> {
    const report: EvaluationReport = { firing, notified: [], deliveryErrors: [] };
    const keys = new Set(firing.map((a) => a.key));
    for (const a of firing) {
      if (await this.states.claimFiring(a, now)) await this.deliver('firing', a, now, report);
      else if (await this.states.claimReminder(a, now, new Date(now.getTime() - this.reminderH * H))) await this.deliver('reminder', a, now, report);
    }
    for (const old of await this.states.firing()) {
      if (owns(old.key) && !keys.has(old.key) && (await this.states.claimResolved(old.key))) await this.deliver('resolved', old, now, report);
    }
    return report;
  }

  /** Sends a test notification through every channel (from the console or CLI). */
  async sendTest(now: Date): Promise<EvaluationReport> {
    const report: EvaluationReport = { firing: [], notified: [], deliveryErrors: [] };
    const alert: Alert = { key: 'test', rule: 'test', severity: 'warning', title: 'Notification de test', detail: 'Ceci est un test des alertes de l’appliance Officine : la livraison fonctionne.' };
    await this.deliver('test', alert, now, report);
    return report;
  }

  private async deliver(kind: NotificationKind, alert: Alert, at: Date, report: EvaluationReport): Promise<void> {
    const n: AlertNotification = { kind, alert, at, appliance: this.appliance };
    report.notified.push({ kind, key: alert.key });
    this.logger.warn({ alert: alert.key, kind, severity: alert.severity }, `alert ${kind}: ${alert.title}`);
    for (const notifier of this.notifiers) {
      try {
        await notifier.send(n);
      } catch (err) {
        const msg = `${notifier.name}: ${(err as Error).message}`;
        report.deliveryErrors.push(msg);
        this.logger.error({ err, alert: alert.key, notifier: notifier.name }, 'alert delivery failed');
      }
    }
  }
}

/**
 * Runs the evaluation on a timer in `appliance serve` (ALERT_CHECK_INTERVAL_S), and
 * prunes old request stats. Overlapping evaluations are skipped.
 */
export function startAlertMonitor(
  collector: AlertSignalsCollector,
  service: AlertingService,
  db: DataSource,
  clock: { now(): Date },
  intervalS: number,
  logger: Logger,
): () => void {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const now = clock.now();
      await service.evaluate(await collector.collect(now));
      await pruneRequestStats(db, new Date(now.getTime() - 48 * H));
    } catch (err) {
      logger.error({ err }, 'alert evaluation failed');
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalS * 1000);
  timer.unref();
  void tick();
  return () => clearInterval(timer);
}
