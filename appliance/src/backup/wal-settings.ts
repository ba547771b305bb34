import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/config.js';

/**
 * How PostgreSQL runs the archive_command: the release's `provisioning/officine-wal-spool
 * %p %f SPOOL_DIR` — a POSIX sh copy into the spool, no Node and no network (the
 * scheduler's `backup.wal-ship` job ships from there).
 */
export interface ArchiveCommandSpec {
  /** provisioning/officine-wal-spool of the release (walSpoolScript). */
  script: string;
  /** The spool directory (walSpoolDir). */
  spoolDir: string;
}

/** The spool directory PostgreSQL's archive_command writes to (BACKUP_WAL_SPOOL_DIR). */
export function walSpoolDir(config: Pick<Config, 'BACKUP_WAL_SPOOL_DIR' | 'dataDir'>): string {
  return config.BACKUP_WAL_SPOOL_DIR ?? join(config.dataDir, 'wal-spool');
}

/** The release's spool script, from the path of its console (dist/appliance/src/cli/main.js). */
export function walSpoolScript(cli: string): string {
  return resolve(dirname(cli), '../../../../provisioning/officine-wal-spool');
}

const shellWord = (s: string) => (/^[A-Za-z0-9_./:=@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The archive_command line, with %p and %f left for PostgreSQL. */
export function walArchiveCommand(spec: ArchiveCommandSpec): string {
  return [shellWord(spec.script), '%p', '%f', shellWord(spec.spoolDir)].join(' ');
}

/**
 * The PostgreSQL settings of WAL archiving, in one place for every cluster that
 * archives (production via install.sh, development, tests): archive_timeout forces a
 * segment switch after that many seconds with pending writes, which bounds the RPO.
 */
export function walArchivingSettings(config: Pick<Config, 'BACKUP_WAL_ARCHIVE_TIMEOUT'>, command: ArchiveCommandSpec): Record<string, string> {
  return {
    wal_level: 'replica',
    archive_mode: 'on',
    archive_timeout: String(config.BACKUP_WAL_ARCHIVE_TIMEOUT),
    archive_command: walArchiveCommand(command),
  };
}

/**
 * Settings every appliance cluster runs with, archiving or not (production's conf
 * fragment, the embedded cluster of development, tests and benches). jit off: the
 * production unit denies writable+executable memory (MemoryDenyWriteExecute), which
 * LLVM's JIT needs; bench:dashboard measured no difference for the appliance's queries.
 */
export const CLUSTER_SETTINGS: Readonly<Record<string, string>> = { jit: 'off' };

/** As `postgres -c` flags. */
export function postgresFlags(settings: Record<string, string>): string[] {
  return Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
}

/** As a postgresql.conf fragment (values quoted). */
export function renderPostgresConf(settings: Record<string, string>, header: string): string {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = '${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`);
  return `${header.split('\n').map((l) => `# ${l}`).join('\n')}\n${lines.join('\n')}\n`;
}
