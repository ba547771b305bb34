import type { ScheduledJob } from '../scheduler/job.js';
import { GdprService } from './gdpr.service.js';

/** Daily GDPR jobs: purge of due erasure requests, inactivity warnings and purges. */
export function gdprJobs(): ScheduledJob[] {
  return [
    { name: 'gdpr.erasure-purge', cron: '40 3 * * *', timezone: 'Europe/Paris', run: async ({ app }) => ({ ...(await new GdprService(app).runErasurePurge()) }) },
    { name: 'gdpr.inactivity', cron: '20 3 * * *', timezone: 'Europe/Paris', run: async ({ app }) => ({ ...(await new GdprService(app).runInactivity()) }) },
  ];
}
