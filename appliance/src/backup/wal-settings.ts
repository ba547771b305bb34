import type { Config } from '../config/config.js';

/** How PostgreSQL runs the archive_command: `appliance wal archive %p %f` with its own env file. */
export interface ArchiveCommandSpec {
  /** The node binary. */
  node: string;
  /** The appliance console (dist/appliance/src/cli/main.js). */
  cli: string;
  /** Env file the command reads (targets, recipients), readable by the postgres user. */
  envFile: string;
  /** Environment variables to drop (e.g. a test runner's NODE_OPTIONS). */
  unset?: string[];
}

/** The archive_command line, with %p and %f left for PostgreSQL. */
export function walArchiveCommand(spec: ArchiveCommandSpec): string {
  return ['env', ...(spec.unset ?? []).flatMap((v) => ['-u', v]), `OFFICINE_ENV_FILE=${spec.envFile}`, spec.node, spec.cli, 'wal', 'archive', '%p', '%f'].join(' ');
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

/** As `postgres -c` flags. */
export function postgresFlags(settings: Record<string, string>): string[] {
  return Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
}

/** As a postgresql.conf fragment (values quoted). */
export function renderPostgresConf(settings: Record<string, string>, header: string): string {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = '${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`);
  return `${header.split('\n').map((l) => `# ${l}`).join('\n')}\n${lines.join('\n')}\n`;
}
