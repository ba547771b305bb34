import cron, { type ScheduledTask } from 'node-cron';
import type { QueryRunner } from 'typeorm';
import type { AppContext } from '../http/app-context.js';
import type { ScheduledJob } from './job.js';
import { runJobOnce } from './job-runner.js';

/** Advisory lock that makes one scheduler process the runner; others wait as standby. */
export const SCHEDULER_LOCK_KEY = 0x5c4ed01e;

/**
 * `appliance scheduler`: takes the scheduler lock (a standby process retries until
 * the active one goes away), then fires each registered job on its cron schedule
 * through runJobOnce.
 */
export class Scheduler {
  private tasks: ScheduledTask[] = [];
  private leader: QueryRunner | undefined;
  private readonly abort = new AbortController();
  private retry: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly app: AppContext,
    private readonly jobs: ScheduledJob[],
    private readonly opts: { standbyRetryMs?: number } = {},
  ) {
    const names = new Set<string>();
    for (const j of jobs) {
      if (names.has(j.name)) throw new Error(`duplicate job name ${j.name}`);
      names.add(j.name);
      if (!cron.validate(j.cron)) throw new Error(`invalid cron expression for ${j.name}: ${j.cron}`);
    }
  }

  /** True once this process holds the scheduler lock and has scheduled the jobs. */
  get active(): boolean {
    return this.tasks.length > 0;
  }

  async start(): Promise<void> {
    if (await this.tryLead()) return;
    this.app.logger.info('another scheduler is active; standing by');
    await new Promise<void>((resolve) => {
      const tick = async () => {
        if (this.abort.signal.aborted) return resolve();
        if (await this.tryLead().catch(() => false)) return resolve();
        this.retry = setTimeout(tick, this.opts.standbyRetryMs ?? 30_000);
      };
      this.retry = setTimeout(tick, this.opts.standbyRetryMs ?? 30_000);
    });
  }

  private async tryLead(): Promise<boolean> {
    const qr = this.app.db.createQueryRunner();
    await qr.connect();
    const ok = (await qr.query('SELECT pg_try_advisory_lock($1) AS ok', [SCHEDULER_LOCK_KEY]))[0].ok as boolean;
    if (!ok) {
      await qr.release();
      return false;
    }
    this.leader = qr;
    for (const job of this.jobs) {
      this.tasks.push(
        cron.schedule(job.cron, () => this.fire(job), { timezone: job.timezone ?? 'UTC', name: job.name }),
      );
    }
    this.app.logger.info({ jobs: this.jobs.map((j) => ({ name: j.name, cron: j.cron })) }, 'scheduler active');
    return true;
  }

  /** Runs a job now (also what a cron tick does). */
  fire(job: ScheduledJob): Promise<unknown> {
    const p = runJobOnce(this.app, job, this.abort.signal).catch((err: unknown) => this.app.logger.error({ err, job: job.name }, 'job runner error'));
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return p;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.retry) clearTimeout(this.retry);
    for (const t of this.tasks) await t.destroy();
    this.tasks = [];
    await Promise.all([...this.running]);
    if (this.leader) {
      await this.leader.query('SELECT pg_advisory_unlock($1)', [SCHEDULER_LOCK_KEY]).catch(() => undefined);
      await this.leader.release();
      this.leader = undefined;
    }
  }
}
