import type { ScheduledJob } from '../scheduler/job.js';
import { InvoiceArchiveService } from './invoice-archive.service.js';

/** Nightly purge of archive entries past retention (never under a legal hold) and a weekly full verification. */
export function invoiceArchiveJobs(): ScheduledJob[] {
  return [
    { name: 'invoices.archive-retention', cron: '50 3 * * *', timezone: 'Europe/Paris', run: async ({ app }) => ({ ...(await new InvoiceArchiveService(app).purgeExpired()) }) },
    {
      name: 'invoices.archive-verify',
      cron: '10 5 * * 0',
      timezone: 'Europe/Paris',
      run: async ({ app }) => {
        const r = await new InvoiceArchiveService(app).verifyAll();
        if (r.tampered.length) throw new Error(`invoice archive tampered for ${r.tampered.length} pharmacy(ies)`);
        return { ...r };
      },
    },
  ];
}
