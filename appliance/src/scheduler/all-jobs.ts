import { agentChannelJobs } from '../agent-channel/agent-channel.jobs.js';
import { backupJobs } from '../backup/backup.jobs.js';
import type { AppContext } from '../http/app-context.js';
import { gdprJobs } from '../gdpr/gdpr.jobs.js';
import { invoiceArchiveJobs } from '../invoices/invoice-archive.jobs.js';
import { logRetentionJobs } from '../logging/log-retention.js';
import { opsJobs } from '../ops/ops.jobs.js';
import type { ScheduledJob } from './job.js';

/**
 * Every scheduled job of the appliance; each module adds its own list here. Read by
 * `appliance scheduler` and by the missed-run detection (which needs the schedules).
 */
export function allJobs(app: AppContext, dbUrl: string): ScheduledJob[] {
  return [
    ...backupJobs(app, dbUrl),
    ...opsJobs(),
    ...agentChannelJobs(),
    ...gdprJobs(),
    ...invoiceArchiveJobs(),
    ...logRetentionJobs(app),
  ];
}
