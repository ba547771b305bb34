import { createHash } from 'node:crypto';
import type { AppContext } from '../http/app-context.js';
import type { ScheduledJob } from './job.js';
import { JobRunRepository } from './job-run.repository.js';

/** Advisory lock key of a job (stable 63-bit hash of its name). */
export function jobLockKey(name: string): bigint {
  return createHash('sha256').update(`officine-job:${name}`).digest().readBigInt64BE(0);
}

/** How one attempt to run a job ended. */
export type RunOutcome = { outcome: 'succeeded' | 'failed'; runId: string; error?: string } | { outcome: 'skipped'; reason: string };

/**
 * Runs a job once under its own advisory lock (held on a dedicated connection), so
 * two runs of the same job never overlap, even across processes; a run that finds
 * the lock taken is recorded as skipped. Every run is journaled in job_runs.
 */
export async function runJobOnce(app: AppContext, job: ScheduledJob, signal: AbortSignal = new AbortController().signal): Promise<RunOutcome> {
  const runs = new JobRunRepository(app.db);
  const qr = app.db.createQueryRunner();
  await qr.connect();
  try {
    const key = jobLockKey(job.name).toString();
    const got = (await qr.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]))[0].ok as boolean;
    if (!got && job.quiet) return { outcome: 'skipped', reason: 'overlap' };
    if (!got) {
      await runs.skipped(job.name, app.clock.now(), 'previous run still in progress');
      app.logger.warn({ job: job.name }, 'job skipped: previous run still in progress');
      return { outcome: 'skipped', reason: 'overlap' };
    }
    try {
      if (job.quiet) return await runQuietly(app, runs, job, signal);
      const runId = await runs.start(job.name, app.clock.now());
      try {
        const details = await job.run({ app, runId, signal });
        await runs.finish(runId, app.clock.now(), 'succeeded', null, details ?? null);
        return { outcome: 'succeeded', runId };
      } catch (err) {
        const message = (err as Error).message ?? String(err);
        await runs.finish(runId, app.clock.now(), 'failed', message.slice(0, 4000), null);
        app.logger.error({ job: job.name, err }, 'job failed');
        return { outcome: 'failed', runId, error: message };
      }
    } finally {
      await qr.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
    }
  } finally {
    await qr.release();
  }
}

/** A quiet job's run: journaled after the fact, and only when it did something or failed. */
async function runQuietly(app: AppContext, runs: JobRunRepository, job: ScheduledJob, signal: AbortSignal): Promise<RunOutcome> {
  const startedAt = app.clock.now();
  let details: Record<string, unknown> | void;
  try {
    details = await job.run({ app, runId: '', signal });
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    const runId = await runs.start(job.name, startedAt);
    await runs.finish(runId, app.clock.now(), 'failed', message.slice(0, 4000), null);
    app.logger.error({ job: job.name, err }, 'job failed');
    return { outcome: 'failed', runId, error: message };
  }
  if (!details) return { outcome: 'succeeded', runId: '' };
  const runId = await runs.start(job.name, startedAt);
  await runs.finish(runId, app.clock.now(), 'succeeded', null, details);
  return { outcome: 'succeeded', runId };
}
