import { createTask } from 'node-cron';
import type { JobRunRecord, ScheduledJobSpec } from '../ops.providers.js';

/** A scheduled time at which a job should have started and did not. */
export interface MissedRun {
  job: string;
  expectedAt: Date;
}

export interface MissedRunOptions {
  now: Date;
  /** Start of the window examined (e.g. now − 48 h, or the first recorded run if later). */
  since: Date;
  /** How late a run may start and still count (lock wait, slow start). */
  graceMs?: number;
}

/** Every time in [from, to) at which the cron expression fires (minute resolution, plus its seconds field). */
export function cronFireTimes(cron: string, from: Date, to: Date, timezone?: string): Date[] {
  const task = createTask(cron, () => undefined, timezone ? { timezone } : {});
  try {
    const out: Date[] = [];
    let t = Math.ceil(from.getTime() / 60_000) * 60_000;
    const seconds = cron.trim().split(/\s+/).length === 6 ? [...Array(60).keys()] : [0];
    for (; t < to.getTime(); t += 60_000) {
      for (const s of seconds) {
        const d = new Date(t + s * 1000);
        if (d.getTime() >= from.getTime() && d.getTime() < to.getTime() && task.match(d)) out.push(d);
      }
    }
    return out;
  } finally {
    void task.destroy();
  }
}

/**
 * Missed runs: each time a job's cron fired in the window (up to now − grace) with no
 * recorded run starting within [fire − 1 min, fire + grace]. Any recorded run counts,
 * whatever its outcome — a failure is another alert; a missed run means the scheduler
 * was not there (down, stuck, clock wrong).
 */
export function detectMissedRuns(jobs: readonly ScheduledJobSpec[], runs: readonly JobRunRecord[], opts: MissedRunOptions): MissedRun[] {
  const grace = opts.graceMs ?? 10 * 60_000;
  const until = new Date(opts.now.getTime() - grace);
  if (until <= opts.since) return [];
  const missed: MissedRun[] = [];
  for (const job of jobs) {
    const starts = runs.filter((r) => r.job === job.name).map((r) => r.startedAt.getTime());
    for (const fire of cronFireTimes(job.cron, opts.since, until, job.timezone)) {
      const f = fire.getTime();
      if (!starts.some((s) => s >= f - 60_000 && s <= f + grace)) missed.push({ job: job.name, expectedAt: fire });
    }
  }
  return missed;
}
