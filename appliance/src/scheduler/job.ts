import type { AppContext } from '../http/app-context.js';

/** What a job receives when it runs. */
export interface JobContext {
  app: AppContext;
  /** Id of this run in job_runs. */
  runId: string;
  /** Aborted when the scheduler is stopping. */
  signal: AbortSignal;
}

/**
 * A scheduled job: a unique name, a node-cron expression (in `timezone`, default
 * UTC) and what to do. The returned object, if any, is stored as the run's details.
 * Other modules (ops: missed runs, alerting) add their jobs through this same shape.
 */
export interface ScheduledJob {
  name: string;
  cron: string;
  timezone?: string;
  /**
   * Fires every few seconds (a seconds field in `cron`): a run is journaled in job_runs
   * only when it returns details (it did something) or fails, an overlapping tick is
   * dropped silently, and missed-run detection leaves it out (such a job watches its
   * own lag, e.g. the WAL spool age alert). `runId` is '' while it runs.
   */
  quiet?: boolean;
  run(ctx: JobContext): Promise<Record<string, unknown> | void>;
}
