/**
 * What operations read from modules that land separately (backups, agents, the
 * scheduler's job runs). Each is a small interface; `null` from a provider means
 * "this module is not installed yet", which status shows as « non disponible » and
 * the alert rules treat as nothing to report. createOpsProviders is the one place
 * where the real implementations get wired in.
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
  /** e.g. running, succeeded, failed, skipped */
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

/** Placeholder for a module not merged yet. */
const unavailable: OpsProviders = {
  backups: { targets: async () => null },
  agents: { agents: async () => null },
  jobRuns: { jobs: async () => null, runsSince: async () => [], firstRunAt: async () => null },
};

/** The providers for this build (real ones replace the placeholders as modules land). */
export function createOpsProviders(): OpsProviders {
  return unavailable;
}
