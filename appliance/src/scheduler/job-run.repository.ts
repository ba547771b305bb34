import { hostname } from 'node:os';
import type { DataSource } from 'typeorm';

/** One row of job_runs. */
export interface JobRun {
  id: string;
  job: string;
  startedAt: Date;
  finishedAt: Date | null;
  outcome: 'running' | 'succeeded' | 'failed' | 'skipped';
  error: string | null;
  details: Record<string, unknown> | null;
}

/** The scheduler's journal: every run of every job, with start, end and outcome. */
export class JobRunRepository {
  constructor(private readonly db: DataSource) {}

  async start(job: string, at: Date): Promise<string> {
    const r = await this.db.query(
      `INSERT INTO job_runs (job, started_at, outcome, host, pid) VALUES ($1, $2, 'running', $3, $4) RETURNING id::text AS id`,
      [job, at, hostname(), process.pid],
    );
    return r[0].id as string;
  }

  async finish(id: string, at: Date, outcome: 'succeeded' | 'failed', error: string | null, details: Record<string, unknown> | null): Promise<void> {
    await this.db.query(`UPDATE job_runs SET finished_at = $2, outcome = $3, error = $4, details = $5 WHERE id = $1`, [
      id,
      at,
      outcome,
      error,
      details === null ? null : JSON.stringify(details),
    ]);
  }

  /** Records a run that did not happen because another one held the job's lock. */
  async skipped(job: string, at: Date, reason: string): Promise<void> {
    await this.db.query(
      `INSERT INTO job_runs (job, started_at, finished_at, outcome, error, host, pid) VALUES ($1, $2, $2, 'skipped', $3, $4, $5)`,
      [job, at, reason, hostname(), process.pid],
    );
  }

  async recent(job: string, limit = 20): Promise<JobRun[]> {
    const rows = await this.db.query(
      `SELECT id::text AS id, job, started_at, finished_at, outcome, error, details FROM job_runs WHERE job = $1 ORDER BY started_at DESC, id DESC LIMIT $2`,
      [job, limit],
    );
    return rows.map((r: Record<string, unknown>) => ({
      id: r.id as string,
      job: r.job as string,
      startedAt: new Date(r.started_at as string),
      finishedAt: r.finished_at ? new Date(r.finished_at as string) : null,
      outcome: r.outcome as JobRun['outcome'],
      error: (r.error as string | null) ?? null,
      details: (r.details as Record<string, unknown> | null) ?? null,
    }));
  }
}
