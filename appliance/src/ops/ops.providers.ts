import type { DataSource } from 'typeorm';
import type { Config } from '../config/config.js';

/**
 * What operations read from other modules: backups, agents, the scheduler's job runs.
 * Each is a small interface; `null` from a provider means "this module is not
 * installed yet", which status shows as « non disponible » and the alert rules treat
 * as nothing to report. createOpsProviders is the one place where the real
 * implementations are wired in.
 */

/** Last backup and restore drill of one target (NAS, S3…). */
export interface BackupTargetStatus {
  target: string;
  lastBackupAt: Date | null;
  lastBackupOk: boolean | null;
  lastDrillAt: Date | null;
  lastDrillOk: boolean | null;
}

export interface BackupStatusProvider {
  targets(): Promise<BackupTargetStatus[] | null>;
}

/** When an agent was last heard from. */
export interface AgentSeen {
  agentId: string;
  pharmacyName: string;
  lastSeenAt: Date | null;
}

export interface AgentStatusProvider {
  agents(): Promise<AgentSeen[] | null>;
}

/** One recorded run of a scheduled job. */
export interface JobRunRecord {
  job: string;
  startedAt: Date;
  finishedAt: Date | null;
  /** running, succeeded, failed, skipped (another run held the job's lock) */
  outcome: string;
  error?: string | null;
}

/** A job the scheduler is expected to run, and its cron expression. */
export interface ScheduledJobSpec {
  name: string;
  cron: string;
  timezone?: string;
}

export interface JobRunProvider {
  /** Jobs the scheduler declares, or null when the scheduler is not installed. */
  jobs(): Promise<ScheduledJobSpec[] | null>;
  /** Runs started at or after `since`, oldest first. */
  runsSince(since: Date): Promise<JobRunRecord[]>;
  /** Earliest run ever recorded: nothing before it can count as missed. */
  firstRunAt(): Promise<Date | null>;
}

export interface OpsProviders {
  backups: BackupStatusProvider;
  agents: AgentStatusProvider;
  jobRuns: JobRunProvider;
}

/** The scheduler's journal (`job_runs`) and its declared jobs. */
export class DbJobRunProvider implements JobRunProvider {
  constructor(
    private readonly db: DataSource,
    private readonly declared: () => (ScheduledJobSpec & { quiet?: boolean })[],
  ) {}

  async jobs(): Promise<ScheduledJobSpec[]> {
    // Quiet jobs (every few seconds, journaled only when they work) cannot be checked for missed runs.
    return this.declared().filter((j) => !j.quiet).map(({ name, cron, timezone }) => ({ name, cron, ...(timezone ? { timezone } : {}) }));
  }

  async runsSince(since: Date): Promise<JobRunRecord[]> {
    const rows: { job: string; started_at: Date; finished_at: Date | null; outcome: string; error: string | null }[] = await this.db.query(
      `SELECT job, started_at, finished_at, outcome, error FROM job_runs WHERE started_at >= $1 ORDER BY started_at, id`,
      [since],
    );
    return rows.map((r) => ({ job: r.job, startedAt: new Date(r.started_at), finishedAt: r.finished_at ? new Date(r.finished_at) : null, outcome: r.outcome, error: r.error }));
  }

  async firstRunAt(): Promise<Date | null> {
    const rows: { first: Date | null }[] = await this.db.query(`SELECT min(started_at) AS first FROM job_runs`);
    return rows[0]?.first ? new Date(rows[0].first) : null;
  }
}

/** Drill results, read from where the drill host publishes them (the backup targets). */
export type DrillLookup = () => Promise<{ source: string | null; at: Date; ok: boolean } | null>;

/**
 * Backups per configured target from `backup_records` (the newest backup verified on
 * each target); the drill, when a lookup is given, is attached to the target that
 * published it. Status passes a lookup (it reads the targets); the alert rules do not.
 */
export class DbBackupStatusProvider implements BackupStatusProvider {
  constructor(
    private readonly db: DataSource,
    private readonly config: Pick<Config, 'BACKUP_TARGETS'>,
    private readonly drill?: DrillLookup,
  ) {}

  async targets(): Promise<BackupTargetStatus[]> {
    const drill = this.drill ? await this.drill().catch(() => null) : null;
    const out: BackupTargetStatus[] = [];
    for (const target of this.config.BACKUP_TARGETS) {
      const rows: { finished_at: Date }[] = await this.db.query(
        `SELECT finished_at FROM backup_records WHERE targets @> $1::jsonb ORDER BY finished_at DESC LIMIT 1`,
        [JSON.stringify([{ target, verified: true }])],
      );
      const mine = drill && (drill.source === target || drill.source === null);
      out.push({
        target,
        lastBackupAt: rows[0] ? new Date(rows[0].finished_at) : null,
        lastBackupOk: rows[0] ? true : null,
        lastDrillAt: mine ? drill.at : null,
        lastDrillOk: mine ? drill.ok : null,
      });
    }
    return out;
  }
}

/** Placeholder until the agent module lands. */
export const agentsUnavailable: AgentStatusProvider = { agents: async () => null };
