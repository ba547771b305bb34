import { createTask, parse } from 'node-cron';
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

/** Local calendar fields of one minute, as cron sees them. */
interface LocalMinute {
  minute: number;
  hour: number;
  day: number;
  month: number;
  weekday: number;
}

/** Offset (ms) of `timezone` from UTC at instant `t`. */
function zoneOffset(fmt: Intl.DateTimeFormat, t: number): number {
  const p: Record<string, number> = {};
  for (const part of fmt.formatToParts(t)) p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!) - Math.floor(t / 60_000) * 60_000;
}

/**
 * The local fields of every minute in [from, to). The zone's offset is looked up once
 * per UTC hour (offsets change on hour boundaries), so a 48 h window costs 48 lookups.
 */
function localMinutes(from: number, to: number, timezone: string): LocalMinute[] {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
  });
  const out: LocalMinute[] = [];
  let hour = -1;
  let offset = 0;
  for (let t = from; t < to; t += 60_000) {
    const h = Math.floor(t / 3_600_000);
    if (h !== hour) {
      hour = h;
      offset = timezone === 'UTC' ? 0 : zoneOffset(fmt, t);
    }
    const d = new Date(t + offset);
    out.push({ minute: d.getUTCMinutes(), hour: d.getUTCHours(), day: d.getUTCDate(), month: d.getUTCMonth() + 1, weekday: d.getUTCDay() });
  }
  return out;
}

/**
 * Every time in [from, to) at which the cron expression fires (node-cron syntax and
 * semantics: all fields must match). Fields are parsed by node-cron; the minutes of
 * the window are formatted once, so a 48 h window costs a few milliseconds. The rare
 * `L` / `#` day forms fall back to node-cron's own matcher.
 */
export function cronFireTimes(cron: string, from: Date, to: Date, timezone = 'UTC'): Date[] {
  const f = parse(cron);
  const start = Math.ceil(from.getTime() / 60_000) * 60_000;
  const out: Date[] = [];
  const push = (minuteStart: number) => {
    for (const s of f.second) {
      const t = minuteStart + s * 1000;
      if (t >= from.getTime() && t < to.getTime()) out.push(new Date(t));
    }
  };
  const special = [...f.dayOfMonth, ...f.dayOfWeek].some((x) => typeof x === 'string');
  if (special) {
    const task = createTask(cron, () => undefined, { timezone });
    try {
      for (let t = start; t < to.getTime(); t += 60_000) if (task.match(new Date(t))) push(t);
    } finally {
      void task.destroy();
    }
    return out;
  }
  const sets = {
    minute: new Set(f.minute), hour: new Set(f.hour), day: new Set(f.dayOfMonth as number[]),
    month: new Set(f.month), weekday: new Set((f.dayOfWeek as number[]).map((d) => d % 7)),
  };
  localMinutes(start, to.getTime(), timezone).forEach((m, i) => {
    if (sets.minute.has(m.minute) && sets.hour.has(m.hour) && sets.day.has(m.day) && sets.month.has(m.month) && sets.weekday.has(m.weekday)) {
      push(start + i * 60_000);
    }
  });
  return out;
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
