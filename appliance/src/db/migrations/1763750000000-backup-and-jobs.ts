import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The scheduler's run journal (every run of every job, with its outcome) and the
 * appliance's record of each backup (what was verified where), which status and
 * alerts read.
 */
export class BackupAndJobs1763750000000 implements MigrationInterface {
  name = 'BackupAndJobs1763750000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_runs (
        id           bigserial PRIMARY KEY,
        job          text NOT NULL CHECK (length(job) BETWEEN 1 AND 100),
        started_at   timestamptz NOT NULL DEFAULT now(),
        finished_at  timestamptz,
        outcome      text NOT NULL CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped')),
        error        text,
        details      jsonb,
        host         text NOT NULL,
        pid          integer NOT NULL,
        CHECK ((outcome = 'running') = (finished_at IS NULL))
      )`);
    await q.query(`CREATE INDEX job_runs_job_started_idx ON job_runs (job, started_at DESC)`);
    await q.query(`
      CREATE TABLE backup_records (
        id           text PRIMARY KEY,
        started_at   timestamptz NOT NULL,
        finished_at  timestamptz NOT NULL,
        status       text NOT NULL CHECK (status IN ('verified', 'partial', 'failed')),
        size_bytes   bigint,
        sha256       text,
        targets      jsonb NOT NULL,
        error        text
      )`);
    await q.query(`CREATE INDEX backup_records_finished_idx ON backup_records (finished_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE backup_records`);
    await q.query(`DROP TABLE job_runs`);
  }
}
