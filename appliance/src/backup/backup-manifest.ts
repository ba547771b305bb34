/** One sealed file of a backup (the logical dump, the physical base backup). */
export interface BackupArtifact {
  name: string;
  kind: 'pg_dump' | 'base_backup';
  size: number;
  sha256: string;
}

/** Rows of one table at the dump's snapshot. */
export interface TableCount {
  name: string;
  rows: number;
}

/** A foreign key as `pg_get_constraintdef` prints it. */
export interface ForeignKeyInfo {
  table: string;
  name: string;
  definition: string;
}

/**
 * What a backup contains and how to check it, signed by the appliance: the restore
 * and the drill trust nothing that is not in here.
 */
export interface BackupManifest {
  format: 'officine-backup/1';
  id: string;
  createdAt: string;
  finishedAt: string;
  appVersion: string;
  /** Last applied migration. */
  schemaVersion: string;
  pgVersion: string;
  database: string;
  /** Fingerprints of the age recipients that can open the artefacts. */
  recipients: string[];
  compression: 'zstd';
  encryption: 'age-x25519';
  artifacts: BackupArtifact[];
  tables: TableCount[];
  foreignKeys: ForeignKeyInfo[];
  /** For point-in-time restore: where WAL replay starts (base backup runs only). */
  base?: { startWal: string; startLsn: string; endLsn: string; timeline: number };
}

/** Object layout on every target. */
export const layout = {
  backupsDir: 'backups',
  backupDir: (id: string) => `backups/${id}`,
  manifest: (id: string) => `backups/${id}/manifest.json`,
  artifact: (id: string, name: string) => `backups/${id}/${name}`,
  dumpName: 'dump.pgc.zst.age',
  baseName: 'base.tar.zst.age',
  walDir: 'wal',
  wal: (file: string) => `wal/${file}.zst.age`,
  drillsDir: 'drills',
  drill: (id: string) => `drills/${id}.json`,
};

/** Backup ids are UTC timestamps (sortable, one per second at most): 20261121T023000Z. */
export function backupId(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Parses a backup id back into its instant; null when the name is not an id. */
export function parseBackupId(id: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(id);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : null;
}
