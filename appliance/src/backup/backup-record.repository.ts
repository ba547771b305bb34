import type { DataSource } from 'typeorm';

/** Outcome of one backup run per target. */
export interface TargetOutcome {
  target: string;
  verified: boolean;
  error?: string;
  warnings?: string[];
}

/** One row of backup_records. */
export interface BackupRecord {
  id: string;
  startedAt: Date;
  finishedAt: Date;
  status: 'verified' | 'partial' | 'failed';
  sizeBytes: number | null;
  sha256: string | null;
  targets: TargetOutcome[];
  error: string | null;
}

/** SQL for backup_records: what status and the alert checks read. */
export class BackupRecordRepository {
  constructor(private readonly db: DataSource) {}

  async insert(r: BackupRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO backup_records (id, started_at, finished_at, status, size_bytes, sha256, targets, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET finished_at = EXCLUDED.finished_at, status = EXCLUDED.status, size_bytes = EXCLUDED.size_bytes,
         sha256 = EXCLUDED.sha256, targets = EXCLUDED.targets, error = EXCLUDED.error`,
      [r.id, r.startedAt, r.finishedAt, r.status, r.sizeBytes, r.sha256, JSON.stringify(r.targets), r.error],
    );
  }

  /** The newest backup verified on at least one target. */
  async latestVerified(): Promise<BackupRecord | null> {
    const rows = await this.db.query(
      `SELECT id, started_at, finished_at, status, size_bytes, sha256, targets, error FROM backup_records
        WHERE status IN ('verified', 'partial') ORDER BY finished_at DESC LIMIT 1`,
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async recent(limit: number): Promise<BackupRecord[]> {
    const rows = await this.db.query(
      `SELECT id, started_at, finished_at, status, size_bytes, sha256, targets, error FROM backup_records ORDER BY finished_at DESC LIMIT $1`,
      [limit],
    );
    return rows.map(toRecord);
  }
}

function toRecord(r: Record<string, unknown>): BackupRecord {
  return {
    id: r.id as string,
    startedAt: new Date(r.started_at as string),
    finishedAt: new Date(r.finished_at as string),
    status: r.status as BackupRecord['status'],
    sizeBytes: r.size_bytes === null ? null : Number(r.size_bytes),
    sha256: (r.sha256 as string | null) ?? null,
    targets: r.targets as TargetOutcome[],
    error: (r.error as string | null) ?? null,
  };
}
