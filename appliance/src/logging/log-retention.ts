import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import type { Config } from '../config/config.js';
import type { AppContext } from '../http/app-context.js';
import type { ScheduledJob } from '../scheduler/job.js';
import { createLogger, type Logger } from './logger.js';

const FILE_RE = /^appliance-(\d{4}-\d{2}-\d{2})\.log$/;
const DAY = 86_400_000;

/**
 * Log destination of the file path (LOG_DIR): one JSON-lines file per UTC day,
 * `appliance-YYYY-MM-DD.log`, mode 0600, so retention is a matter of deleting
 * whole days. Writes are synchronous (a log line is never lost in a buffer at exit).
 */
export class DailyLogFiles implements DestinationStream {
  private fd: number | undefined;
  private day = '';

  constructor(
    private readonly dir: string,
    private readonly clock: { now(): Date } = { now: () => new Date() },
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  write(line: string): void {
    const day = this.clock.now().toISOString().slice(0, 10);
    if (day !== this.day || this.fd === undefined) {
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = openSync(join(this.dir, `appliance-${day}.log`), 'a', 0o600);
      this.day = day;
    }
    writeSync(this.fd, line);
  }
}

/** The last `n` lines of the daily log files (newest day last), for the console. */
export function recentLogLines(dir: string, n: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => FILE_RE.test(f)).sort();
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const f of names.reverse()) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.trim());
    out.unshift(...lines.slice(-(n - out.length)));
    if (out.length >= n) break;
  }
  return out;
}

/** Deletes the daily log files older than `retentionDays` (by the date in their name). */
export function pruneLogFiles(dir: string, retentionDays: number, now: Date): string[] {
  const cutoff = new Date(now.getTime() - retentionDays * DAY).toISOString().slice(0, 10);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const f of names) {
    const m = FILE_RE.exec(f);
    if (m && m[1]! < cutoff) {
      rmSync(join(dir, f), { force: true });
      removed.push(f);
    }
  }
  return removed.sort();
}

/** The logger of the long-running processes (serve, scheduler): daily files under LOG_DIR, else stdout for journald. */
export function createProcessLogger(config: Config): Logger {
  return config.LOG_DIR ? createLogger(config.LOG_LEVEL, new DailyLogFiles(config.LOG_DIR)) : createLogger(config.LOG_LEVEL);
}

/** Daily deletion of log files past LOG_RETENTION_DAYS (file path only; journald has its own limit, see INSTALL.md). */
export function logRetentionJobs(app: AppContext): ScheduledJob[] {
  if (!app.config.LOG_DIR) return [];
  return [
    {
      name: 'logs.retention',
      cron: '5 0 * * *',
      run: async ({ app: a }) => ({ removed: pruneLogFiles(a.config.LOG_DIR!, a.config.LOG_RETENTION_DAYS, a.clock.now()) }),
    },
  ];
}
