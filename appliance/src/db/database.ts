import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { postgresFlags, walArchivingSettings, walSpoolDir, walSpoolScript } from '../backup/wal-settings.js';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/config.js';
import type { SecretStore } from '../config/secrets.js';
import type { Logger } from '../logging/logger.js';
import { createDataSource } from './data-source.js';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedCluster } from './embedded-postgres.js';

/** An open database, and the embedded cluster behind it when there is one. */
export interface Database {
  ds: DataSource;
  url: string;
  cluster: EmbeddedCluster | undefined;
  close(): Promise<void>;
}

export const EMBEDDED_PG_PORT = 54329;
export const EMBEDDED_DB_NAME = 'officine';

/** The embedded cluster's WAL spool (its archive_command runs as this same user). */
function ensureSpoolDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  return dir;
}

/**
 * Opens the database: DATABASE_URL when set (production), otherwise a real
 * PostgreSQL from `embedded-postgres` under DATA_DIR/pg (demo, development).
 * `close()` also stops the embedded cluster.
 */
export async function openDatabase(config: Config, secrets: SecretStore, logger: Logger, opts: { poolSize?: number } = {}): Promise<Database> {
  let cluster: EmbeddedCluster | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    cluster = await startEmbeddedPostgres({
      dir: join(config.dataDir, 'pg'),
      port: Number(process.env.OFFICINE_EMBEDDED_PG_PORT ?? EMBEDDED_PG_PORT),
      secrets,
      logger,
      // With WAL archiving on, the embedded cluster archives like production (same
      // settings, archive_timeout = BACKUP_WAL_ARCHIVE_TIMEOUT) through this console.
      flags:
        config.BACKUP_WAL_ARCHIVING === 'on' && process.argv[1]
          ? postgresFlags(walArchivingSettings(config, { script: walSpoolScript(process.argv[1]), spoolDir: ensureSpoolDir(walSpoolDir(config)) }))
          : [],
    });
    await ensureDatabase(cluster.adminUrl, EMBEDDED_DB_NAME);
    url = cluster.urlFor(EMBEDDED_DB_NAME);
  }
  const ds = createDataSource(url, opts);
  try {
    await ds.initialize();
  } catch (err) {
    await cluster?.stop();
    throw err;
  }
  return {
    ds,
    url,
    cluster,
    async close() {
      if (ds.isInitialized) await ds.destroy();
      await cluster?.stop();
    },
  };
}
