import type { ScheduledJob } from '../scheduler/job.js';
import { pruneRequestStats } from './metrics/request-stats.js';
import { buildAlerting } from './ops.factory.js';

/**
 * Operations' scheduled work: evaluate every alert rule (missed jobs included) and
 * prune old request stats. `appliance serve` evaluates too (ALERT_CHECK_INTERVAL_S):
 * each process watches the other, and the alert states in the database make sure a
 * change is notified once.
 */
export function opsJobs(): ScheduledJob[] {
  return [
    {
      name: 'ops.alerts',
      cron: '*/5 * * * *',
      run: async ({ app }) => {
        const { collector, service } = buildAlerting(app);
        const now = app.clock.now();
        const r = await service.evaluate(await collector.collect(now));
        await pruneRequestStats(app.db, new Date(now.getTime() - 48 * 3_600_000));
        if (r.deliveryErrors.length) throw new Error(`alert delivery failed: ${r.deliveryErrors.join('; ')}`);
        return { firing: r.firing.map((a) => a.key), notified: r.notified.length };
      },
    },
  ];
}
