// WAL archiving and point-in-time restore on a real cluster (embedded PostgreSQL 15)
// configured by walArchivingSettings (what install.sh renders for production, with
// archive_timeout = BACKUP_WAL_ARCHIVE_TIMEOUT: 300 there, 5 here), archive_command = the
// spool script (`provisioning/officine-wal-spool %p %f SPOOL`) run by PostgreSQL itself (as
// the postgres user when the suite runs as root), and the shipper (shipWalSpool, as the
// scheduler's backup.wal-ship job runs it) taking segments from the spool to the NAS: see
// walArchivingCluster. No pg_switch_wal: only archive_timeout seals segments.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { layout } from '../../src/backup/backup-manifest.js';
import { backupTools } from '../../src/backup/backup-settings.js';
import { BackupService } from '../../src/backup/backup.service.js';
import { pointInTimeRestore } from '../../src/backup/pitr.service.js';
import { RestoreService } from '../../src/backup/restore.service.js';
import { SigningKey } from '../../src/backup/signing-key.js';
import { DirectoryStore } from '../../src/backup/targets/directory-store.js';
import { SecretStore } from '../../src/config/secrets.js';
import { APP_VERSION } from '../../src/config/version.js';
import { createLogger } from '../../src/logging/logger.js';
import { tempDir } from '../helpers/app.js';
import { captureLogger, query, walArchivingCluster } from './helpers.js';

const ARCHIVE_TIMEOUT_S = 5;
// The spool copy, the shipper's next pass (every second here, every 5 s in the scheduler),
// zstd + age of a 16 MB segment, write and verify.
const MARGIN_S = 20;

t.test('RPO: a commit is sealed and shipped within archive_timeout without pg_switch_wal; restore to a point in time recovers it', async (t) => {
  const { vault, nasDir, spoolDir, config, cluster, dbUrl, ds, shippedWithin } = await walArchivingCluster(t, { archiveTimeoutS: ARCHIVE_TIMEOUT_S });
  await ds.query(`CREATE TABLE events (id serial PRIMARY KEY, batch text NOT NULL)`);
  await ds.query(`INSERT INTO events (batch) SELECT 'base' FROM generate_series(1, 100)`);
  t.same(await query(cluster.adminUrl, `SELECT current_setting('archive_timeout') AS v`), [{ v: `${ARCHIVE_TIMEOUT_S}s` }], 'archive_timeout from the config value');
  const secrets = new SecretStore(config.secretsDir);
  const nas = new DirectoryStore('nas', nasDir, { requireMount: true });
  const log = captureLogger();
  const r = await new BackupService({ config, dbUrl, db: ds, logger: log.logger, secrets, clock: { now: () => new Date() }, version: APP_VERSION, targets: [nas] }).run();
  t.equal(r.status, 'verified', 'nightly backup with a base backup verified', { errors: log.lines.filter((l) => l.level === 'error') });
  t.ok(r.manifest?.base?.startWal.match(/^[0-9A-F]{24}$/), 'manifest records where WAL replay starts');
  t.ok(r.manifest?.artifacts.some((a) => a.kind === 'base_backup'), 'base backup artefact');

  /** The segment that holds everything committed so far (the one before the insert position). */
  const currentSegment = async () => (await ds.query(`SELECT pg_walfile_name(pg_current_wal_lsn() - 1) AS seg`))[0].seg as string;
  // A committed write after the base backup: nothing but archive_timeout ships it.
  await ds.query(`INSERT INTO events (batch) SELECT 'rpo' FROM generate_series(1, 50)`);
  const seg = await currentSegment();
  const shippedAfter = await shippedWithin(seg, ARCHIVE_TIMEOUT_S + MARGIN_S);
  t.ok(shippedAfter !== null, `segment ${seg} holding the commit shipped within archive_timeout (${ARCHIVE_TIMEOUT_S} s) + ${MARGIN_S} s, without pg_switch_wal`, { shippedAfter });
  t.comment(`commit sealed and shipped ${shippedAfter} s after it was made`);

  // The point in time to restore to, then a later write (archived the same way) that must not come back.
  await new Promise((res) => setTimeout(res, 1100));
  const until = new Date((await ds.query(`SELECT clock_timestamp() AS at`))[0].at as Date);
  await new Promise((res) => setTimeout(res, 1100));
  await ds.query(`INSERT INTO events (batch) SELECT 'after' FROM generate_series(1, 30)`);
  const laterSeg = await currentSegment();
  t.ok((await shippedWithin(laterSeg, ARCHIVE_TIMEOUT_S + MARGIN_S)) !== null, `later segment ${laterSeg} shipped too`);
  const archived = readdirSync(join(nasDir, layout.walDir)).filter((n) => n.endsWith('.zst.age'));
  t.ok(archived.includes(`${seg}.zst.age`), `segment ${seg} spooled by archive_command and shipped`);
  t.notOk(readdirSync(spoolDir).includes(seg), 'shipped segment deleted from the spool');
  const sealed = readFileSync(join(nasDir, layout.wal(seg)));
  t.match(sealed.subarray(0, 22).toString(), /^age-encryption\.org\/v1/, 'segment sealed with age');
  const opened = execFileSync('age', ['-d', '-i', vault.identity, join(nasDir, layout.wal(seg))], { maxBuffer: 64 << 20 });
  t.equal(opened.readUInt32LE(0), 0xfd2fb528, 'inside the age envelope: a zstd frame');
  const stats = (await query<{ failed_count: string }>(cluster.adminUrl, 'SELECT failed_count::text FROM pg_stat_archiver'))[0]!;
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
  const rows = await query<{ batch: string; n: number }>(dbUrl, `SELECT batch, count(*)::int AS n FROM events GROUP BY batch ORDER BY batch`);
  t.same(rows, [{ batch: 'base', n: 100 }, { batch: 'rpo', n: 50 }], 'state at the chosen time: the write shipped by archive_timeout is back, the later rows are absent');

  // A time before any base backup cannot be served.
  await t.rejects(
    pointInTimeRestore(svc, backupTools(config), nas, vault.identity, { until: new Date('2000-01-01T00:00:00Z'), workDir: tempDir(t), adminUrl: cluster.adminUrl, database: 'app' }),
    { code: 'restore_backup_not_found' },
  );
});
