// WAL archiving and point-in-time restore on a real cluster (embedded PostgreSQL 15)
// with archive_mode=on and archive_command = the appliance CLI (`appliance wal archive
// %p %f`), run by PostgreSQL itself (as the postgres user when the suite runs as root).
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { layout } from '../../src/backup/backup-manifest.js';
import { backupTools, withDatabase } from '../../src/backup/backup-settings.js';
import { BackupService } from '../../src/backup/backup.service.js';
import { pointInTimeRestore } from '../../src/backup/pitr.service.js';
import { RestoreService } from '../../src/backup/restore.service.js';
import { SigningKey } from '../../src/backup/signing-key.js';
import { DirectoryStore } from '../../src/backup/targets/directory-store.js';
import { startThrowawayPostgres } from '../../src/backup/throwaway-postgres.js';
import { SecretStore } from '../../src/config/secrets.js';
import { APP_VERSION, projectRoot } from '../../src/config/version.js';
import { createDataSource } from '../../src/db/data-source.js';
import { migrateUp } from '../../src/db/migrator.js';
import { createLogger } from '../../src/logging/logger.js';
import { tempDir } from '../helpers/app.js';
import { ageKeyPair, captureLogger, mountTmpfs, testConfig } from './helpers.js';

async function q<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

t.test('WAL segments sealed and shipped by archive_command; restore to a point in time', async (t) => {
  const keysDir = tempDir(t, 'officine-keys-');
  const vault = ageKeyPair(keysDir, 'vault');
  const nasDir = mountTmpfs(t, '0777'); // PostgreSQL's archive_command writes here as the postgres user
  const confDir = tempDir(t, 'officine-walconf-');
  chmodSync(confDir, 0o755);
  const envFile = join(confDir, 'wal-archive.env');
  writeFileSync(envFile, [`BACKUP_RECIPIENTS=${vault.recipient}`, 'BACKUP_TARGETS=nas', 'NAS_MODE=mount', `NAS_MOUNT_PATH=${nasDir}`, `DATA_DIR=${confDir}`, 'LOG_LEVEL=warn', ''].join('\n'));
  chmodSync(envFile, 0o644); // public recipients only: nothing secret in it
  const cli = join(projectRoot(), 'dist/appliance/src/cli/main.js');
  const archiveCommand = `env -u NODE_OPTIONS -u DATABASE_URL OFFICINE_ENV_FILE=${envFile} ${process.execPath} ${cli} wal archive %p %f`;

  const cluster = await startThrowawayPostgres({
    flags: ['-c', 'archive_mode=on', '-c', `archive_command=${archiveCommand}`, '-c', 'archive_timeout=60', '-c', 'wal_level=replica'],
  });
  t.teardown(() => cluster.stop());
  const dbUrl = withDatabase(cluster.adminUrl, 'app');
  await q(cluster.adminUrl, 'CREATE DATABASE app');
  const ds = createDataSource(dbUrl, { poolSize: 2 });
  await ds.initialize();
  t.teardown(async () => { if (ds.isInitialized) await ds.destroy(); });
  await migrateUp(ds);
  await ds.query(`CREATE TABLE events (id serial PRIMARY KEY, batch text NOT NULL)`);
  await ds.query(`INSERT INTO events (batch) SELECT 'base' FROM generate_series(1, 100)`);

  const config = testConfig(t, { BACKUP_RECIPIENTS: vault.recipient, BACKUP_TARGETS: 'nas', NAS_MODE: 'mount', NAS_MOUNT_PATH: nasDir, BACKUP_WAL_ARCHIVING: 'on' });
  const secrets = new SecretStore(config.secretsDir);
  const nas = new DirectoryStore('nas', nasDir, { requireMount: true });
  const log = captureLogger();
  const r = await new BackupService({ config, dbUrl, db: ds, logger: log.logger, secrets, clock: { now: () => new Date() }, version: APP_VERSION, targets: [nas] }).run();
  t.equal(r.status, 'verified', 'nightly backup with a base backup verified', { errors: log.lines.filter((l) => l.level === 'error') });
  t.ok(r.manifest?.base?.startWal.match(/^[0-9A-F]{24}$/), 'manifest records where WAL replay starts');
  t.ok(r.manifest?.artifacts.some((a) => a.kind === 'base_backup'), 'base backup artefact');

  await new Promise((res) => setTimeout(res, 1100));
  await ds.query(`INSERT INTO events (batch) SELECT 'before' FROM generate_series(1, 50)`);
  const [{ at }] = await ds.query(`SELECT clock_timestamp() AS at`);
  const until = new Date(at as Date);
  await new Promise((res) => setTimeout(res, 1100));
  await ds.query(`INSERT INTO events (batch) SELECT 'after' FROM generate_series(1, 30)`);
  const [{ seg }] = await ds.query(`SELECT pg_walfile_name(pg_current_wal_lsn()) AS seg`);
  await ds.query(`SELECT pg_switch_wal()`);

  // Wait for PostgreSQL to have archived the segment holding the last inserts.
  let archived: string[] = [];
  for (let i = 0; i < 300; i++) {
    archived = readdirSync(join(nasDir, layout.walDir)).filter((n) => n.endsWith('.zst.age'));
    if (archived.includes(`${seg}.zst.age`)) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  t.ok(archived.includes(`${seg}.zst.age`), `segment ${seg} archived by archive_command`);
  const sealed = readFileSync(join(nasDir, layout.wal(seg as string)));
  t.match(sealed.subarray(0, 22).toString(), /^age-encryption\.org\/v1/, 'segment sealed with age');
  const stats = (await q<{ failed_count: string }>(cluster.adminUrl, 'SELECT failed_count::text FROM pg_stat_archiver'))[0]!;
  t.equal(stats.failed_count, '0', 'no archive failures');

  // Retention drops archived WAL older than the oldest kept base backup, and only that.
  writeFileSync(join(nasDir, layout.wal('000000010000000000000000')), 'older than any base backup');
  const service = new BackupService({ config, dbUrl, db: ds, logger: log.logger, secrets, clock: { now: () => new Date() }, version: APP_VERSION, targets: [nas] });
  const ret = await service.applyRetention(nas);
  t.equal(ret.walRemoved, 1, 'one obsolete segment pruned');
  const left = readdirSync(join(nasDir, layout.walDir));
  t.notOk(left.includes('000000010000000000000000.zst.age'), 'the obsolete segment is gone');
  t.ok(left.includes(`${r.manifest!.base!.startWal}.zst.age`), 'the base backup’s start segment is kept');

  // Point-in-time restore into the same server: the database comes back as it was at `until`.
  const svc = new RestoreService(backupTools(config), createLogger('silent'), [SigningKey.loadOrCreate(secrets).publicId]);
  await ds.destroy();
  const res = await pointInTimeRestore(svc, backupTools(config), nas, vault.identity, { until, workDir: tempDir(t), adminUrl: cluster.adminUrl, database: 'app' });
  t.ok(res.check.ok, 'recovered database verified');
  t.ok(res.previous, 'previous database kept');
  const rows = await q<{ batch: string; n: number }>(dbUrl, `SELECT batch, count(*)::int AS n FROM events GROUP BY batch ORDER BY batch`);
  t.same(rows, [{ batch: 'base', n: 100 }, { batch: 'before', n: 50 }], 'state at the chosen time: the later rows are absent');

  // A time before any base backup cannot be served.
  await t.rejects(
    pointInTimeRestore(svc, backupTools(config), nas, vault.identity, { until: new Date('2000-01-01T00:00:00Z'), workDir: tempDir(t), adminUrl: cluster.adminUrl, database: 'app' }),
    { code: 'restore_backup_not_found' },
  );
});
