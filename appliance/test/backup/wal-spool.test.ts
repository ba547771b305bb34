// The two halves of WAL archiving: provisioning/officine-wal-spool (PostgreSQL's
// archive_command, POSIX sh: copy into the spool, durably, nothing else), run as the
// postgres user when the suite runs as root; and the shipper (shipWalSpool: seal, send,
// verify, delete from the spool) with a real NAS directory target and the age/zstd CLIs.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { BackupAlert, type Alert } from '../../src/backup/backup-alerts.js';
import { layout } from '../../src/backup/backup-manifest.js';
import { backupRecipients, backupTools } from '../../src/backup/backup-settings.js';
import { DirectoryStore } from '../../src/backup/targets/directory-store.js';
import { walShipJob } from '../../src/backup/backup.jobs.js';
import { shipConfiguredWalSpool, shipWalSpool } from '../../src/backup/wal-archive.service.js';
import { loadConfig } from '../../src/config/config.js';
import { APP_VERSION } from '../../src/config/version.js';
import type { AppContext } from '../../src/http/app-context.js';
import { JobRunRepository } from '../../src/scheduler/job-run.repository.js';
import { runJobOnce } from '../../src/scheduler/job-runner.js';
import { createTestDataSource } from '../helpers/db.js';
import { walArchiveCommand } from '../../src/backup/wal-settings.js';
import { projectRoot } from '../../src/config/version.js';
import { createLogger } from '../../src/logging/logger.js';
import { tempDir } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { ageKeyPair, mountTmpfs, testConfig } from './helpers.js';

const SCRIPT = join(projectRoot(), 'provisioning/officine-wal-spool');
const asRoot = process.getuid?.() === 0;
const SEG = '000000010000000000000001';

/** A spool directory as install.sh makes it: owner postgres, a group, setgid, 2770 (as root). */
function spoolDir(t: Test, parent?: string): string {
  const dir = parent ?? tempDir(t, 'officine-spool-');
  chmodSync(dir, 0o2770);
  if (asRoot) {
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), 65534); // group nogroup stands in for officine
    chmodSync(dir, 0o2770); // chown clears the setgid bit
  }
  return dir;
}

/** Runs the spool script like PostgreSQL does (as postgres when the suite is root). */
function spool(src: string, name: string, dir: string) {
  const argv = [SCRIPT, src, name, dir];
  const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', ...argv], { encoding: 'utf8' }) : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

/** A readable source segment (the postgres user must read it, as it reads pg_wal). */
function segment(t: Test, bytes = 64 * 1024): { path: string; data: Buffer } {
  const dir = tempDir(t, 'officine-pgwal-');
  chmodSync(dir, 0o755);
  const data = randomBytes(bytes);
  const path = join(dir, 'seg');
  writeFileSync(path, data, { mode: 0o644 });
  return { path, data };
}

t.test('spool script: copies the segment under its name, mode 0640, group of the spool directory, no temp file left', async (t) => {
  const dir = spoolDir(t);
  const s = segment(t);
  const r = spool(s.path, SEG, dir);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  t.same(readdirSync(dir), [SEG], 'only the segment, under its final name');
  t.same(readFileSync(join(dir, SEG)), s.data, 'byte for byte');
  const st = statSync(join(dir, SEG));
  t.equal(st.mode & 0o7777, 0o640, 'mode 0640: the shipper reads it through the group');
  t.equal(st.gid, statSync(dir).gid, 'group inherited from the setgid spool directory (officine in production)');
  if (asRoot) t.equal(st.uid, Number(execFileSync('id', ['-u', 'postgres']).toString()), 'written by the postgres user');
  for (const name of ['00000002.history', `${SEG}.partial`, `${SEG}.00000028.backup`]) t.equal(spool(s.path, name, dir).code, 0, `${name} accepted`);
  t.equal(walArchiveCommand({ script: SCRIPT, spoolDir: '/var/lib/officine-wal-spool' }), `${SCRIPT} %p %f /var/lib/officine-wal-spool`, 'archive_command line');
});

t.test('spool script: bad names, a missing source or spool directory are refused and leave nothing', async (t) => {
  const dir = spoolDir(t);
  const s = segment(t);
  for (const name of ['../000000010000000000000001', '00000001000000000000000', '0000000100000000000000010', '000000010000000000000001.tmp', 'abcdef010000000000000001', `${SEG}\n${SEG}`, '.hidden', '']) {
    const r = spool(s.path, name, dir);
    t.not(r.code, 0, `name ${JSON.stringify(name)} refused`);
  }
  t.match(spool(s.path, '../x', dir).stderr, /nom de segment WAL inattendu/, 'with a French reason on stderr (PostgreSQL log)');
  t.not(spool(join(dir, 'absent'), SEG, dir).code, 0, 'missing source refused');
  t.not(spool(s.path, SEG, join(dir, 'absent')).code, 0, 'missing spool directory refused');
  t.same(readdirSync(dir), [], 'nothing written');
  t.not(spawnSync(SCRIPT, [s.path], { encoding: 'utf8' }).status, 0, 'wrong argument count refused');
});

t.test('spool script: a re-run with the same segment succeeds without rewriting it; a different file under the same name is refused', async (t) => {
  const dir = spoolDir(t);
  const s = segment(t);
  t.equal(spool(s.path, SEG, dir).code, 0);
  const past = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
  utimesSync(join(dir, SEG), past, past);
  const before = statSync(join(dir, SEG));
  const again = spool(s.path, SEG, dir);
  t.equal(again.code, 0, 'identical re-run: exit 0 (PostgreSQL may archive a segment twice)', { stderr: again.stderr });
  const after = statSync(join(dir, SEG));
  t.same([after.ino, Math.round(after.mtimeMs)], [before.ino, past.getTime()], 'not rewritten (same inode, same mtime)');
  const other = segment(t);
  const diff = spool(other.path, SEG, dir);
  t.not(diff.code, 0, 'different content under the same name: non-zero, PostgreSQL keeps the segment');
  t.match(diff.stderr, /un segment différent porte déjà ce nom/);
  t.same(readFileSync(join(dir, SEG)), s.data, 'the spooled segment is left as it was');
  t.same(readdirSync(dir), [SEG], 'no temp file left');
});

t.test('spool script: a copy that fails half way (disk full) leaves no file under the final name and no temp file', { skip: !asRoot && 'needs root to mount a tmpfs' }, async (t) => {
  const mnt = tempDir(t, 'officine-fullspool-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0777', 'tmpfs', mnt]);
  t.teardown(() => void execFileSync('umount', ['-l', mnt]));
  const dir = spoolDir(t, mnt);
  const big = segment(t, 1024 * 1024);
  const r = spool(big.path, SEG, dir);
  t.not(r.code, 0, 'non-zero exit: PostgreSQL retries later');
  t.same(readdirSync(dir), [], 'nothing under the final name, temp file removed');
  const small = segment(t, 16 * 1024);
  t.equal(spool(small.path, SEG, dir).code, 0, 'the next attempt with room succeeds');
  t.same(readFileSync(join(dir, SEG)), small.data);
});

/** Segments in a spool directory (as the script leaves them), plus the shipper's setup. */
function shipperFixture(t: Test) {
  const vault = ageKeyPair(tempDir(t, 'officine-keys-'), 'vault');
  const dir = tempDir(t, 'officine-spool-');
  const config = testConfig(t, { BACKUP_RECIPIENTS: vault.recipient, BACKUP_WAL_SPOOL_DIR: dir });
  const alerts: Alert[] = [];
  const put = (name: string, ageS = 0) => {
    const data = randomBytes(32 * 1024);
    writeFileSync(join(dir, name), data, { mode: 0o640 });
    if (ageS) utimesSync(join(dir, name), new Date(Date.now() - ageS * 1000), new Date(Date.now() - ageS * 1000));
    return data;
  };
  const ship = (targets: DirectoryStore[], maxAgeS = 600) =>
    shipWalSpool({ dir, tools: backupTools(config), recipients: backupRecipients(config), targets, logger: createLogger('silent'), alerter: { raise: (a) => alerts.push(a) }, now: () => new Date(), maxAgeS });
  return { vault, dir, config, alerts, put, ship };
}

t.test('shipper: ships spooled segments in name order, sealed and verified, then deletes them from the spool', async (t) => {
  const f = shipperFixture(t);
  const nasDir = mountTmpfs(t);
  const nas = new DirectoryStore('nas', nasDir, { requireMount: true });
  const names = ['000000010000000000000003', '000000010000000000000001', '00000002.history', '000000010000000000000002'];
  const data = new Map(names.map((n) => [n, f.put(n)]));
  writeFileSync(join(f.dir, `.${SEG}.tmp`), 'a copy in progress');
  const r = await f.ship([nas]);
  t.same(r.shipped, [...names].sort(), 'every segment, in name order');
  t.equal(r.failed, null);
  t.equal(r.remaining, 0);
  t.same(readdirSync(f.dir), [`.${SEG}.tmp`], 'shipped segments deleted; the script’s temp file left alone');
  for (const n of names) {
    const opened = execFileSync('sh', ['-c', `age -d -i '${f.vault.identity}' '${join(nasDir, layout.wal(n))}' | zstd -d -q -c`], { maxBuffer: 8 << 20 });
    t.same(opened, data.get(n), `${n}: age + zstd open to the spooled bytes`);
  }
  t.same(f.alerts, [], 'no alert');
  const idle = await f.ship([nas]);
  t.same(idle, { shipped: [], failed: null, remaining: 0, oldestAgeS: null }, 'an empty spool: nothing to do');
});

t.test('shipper: when every target fails the segments stay in the spool and each failure is alerted; one good target is enough', async (t) => {
  const f = shipperFixture(t);
  const down = new DirectoryStore('nas', tempDir(t, 'officine-notmounted-'), { requireMount: true }); // mount point not mounted
  f.put('000000010000000000000001');
  f.put('000000010000000000000002');
  const r = await f.ship([down]);
  t.same(r.shipped, [], 'nothing shipped');
  t.equal(r.failed, '000000010000000000000001', 'stopped at the first segment, to keep the order');
  t.equal(r.remaining, 2, 'both kept');
  t.same(readdirSync(f.dir).sort(), ['000000010000000000000001', '000000010000000000000002'], 'still in the spool');
  t.same(f.alerts.map((a) => [a.code, a.details?.target]), [[BackupAlert.uploadFailed, 'nas']], 'upload failure alerted with its stable code');

  const s3Dir = mountTmpfs(t);
  const other = new DirectoryStore('s3', s3Dir, { requireMount: true });
  f.alerts.length = 0;
  const r2 = await f.ship([down, other]);
  t.same(r2.shipped, ['000000010000000000000001', '000000010000000000000002'], 'one verified copy is enough');
  t.same(readdirSync(f.dir), [], 'spool emptied');
  t.ok(existsSync(join(s3Dir, layout.wal('000000010000000000000002'))), 'on the target that works');
  t.same(f.alerts.map((a) => a.code), [BackupAlert.uploadFailed, BackupAlert.uploadFailed], 'the failing target still alerted, per segment');
});

t.test('shipper with no target it could open: every segment kept, the first reported as not shipped', async (t) => {
  const f = shipperFixture(t);
  f.put('000000010000000000000002');
  f.put('000000010000000000000001');
  const r = await f.ship([]);
  t.same(r.shipped, [], 'nothing shipped');
  t.equal(r.failed, '000000010000000000000001', 'the oldest segment is the one reported');
  t.same(readdirSync(f.dir).sort(), ['000000010000000000000001', '000000010000000000000002'], 'both kept in the spool');
  t.same(await f.ship([]).then(() => readdirSync(f.dir).length), 2, 'and again on the next pass');
  const empty = shipperFixture(t);
  t.same(await empty.ship([]), { shipped: [], failed: null, remaining: 0, oldestAgeS: null }, 'an empty spool with no target is not a failure');
});

t.test('shipper: a spooled segment older than the threshold raises the spool alert', async (t) => {
  const f = shipperFixture(t);
  const down = new DirectoryStore('nas', tempDir(t, 'officine-notmounted-'), { requireMount: true });
  f.put('000000010000000000000001', 700);
  f.put('000000010000000000000002', 30);
  const r = await f.ship([down], 600);
  t.ok(r.oldestAgeS !== null && r.oldestAgeS >= 700, 'oldest age reported', { oldestAgeS: r.oldestAgeS });
  const stale = f.alerts.filter((a) => a.code === BackupAlert.walSpoolStale);
  t.equal(stale.length, 1, 'one spool alert');
  t.match(stale[0], { message: /Archivage WAL en retard : 2 segment\(s\) en attente, le plus ancien depuis 12 min\./, details: { pending: 2, maxAgeS: 600, spool: f.dir } });
  f.alerts.length = 0;
  await f.ship([down], 3600);
  t.same(f.alerts.map((a) => a.code), [BackupAlert.uploadFailed], 'below the threshold: only the upload failure');
});

t.test('shipper with BACKUP_WAL_ARCHIVING=off drops spooled segments unshipped (the spool must not fill the disk)', async (t) => {
  const f = shipperFixture(t);
  mkdirSync(join(f.dir, 'sub'));
  f.put('000000010000000000000001');
  const r = await shipConfiguredWalSpool(f.config, createLogger('silent'), { raise: (a) => f.alerts.push(a) }, () => new Date());
  t.equal(r.discarded, 1);
  t.same(readdirSync(f.dir), ['sub'], 'segment dropped, nothing else touched');
});

t.test('console: appliance wal ship --once ships what is spooled to the configured targets', async (t) => {
  const f = shipperFixture(t);
  const nasDir = mountTmpfs(t);
  const data = f.put('000000010000000000000005');
  const env = { BACKUP_WAL_ARCHIVING: 'on', BACKUP_RECIPIENTS: f.vault.recipient, BACKUP_TARGETS: 'nas', NAS_MODE: 'mount', NAS_MOUNT_PATH: nasDir, BACKUP_WAL_SPOOL_DIR: f.dir, DATA_DIR: f.config.dataDir, LOG_LEVEL: 'warn' };
  const r = await runCli(['wal', 'ship', '--once'], env);
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  t.equal(r.stdout, '1 segment(s) WAL envoyé(s) ; 0 en attente.\n', 'French summary');
  t.same(readdirSync(f.dir), [], 'spool emptied');
  const opened = execFileSync('sh', ['-c', `age -d -i '${f.vault.identity}' '${join(nasDir, layout.wal('000000010000000000000005'))}' | zstd -d -q -c`]);
  t.same(opened, data, 'sealed copy on the NAS');
  const idle = await runCli(['wal', 'ship', '--once'], env);
  t.equal(idle.code, 0);
  t.match(idle.stdout, /^Aucun segment WAL en attente dans /);
  f.put('000000010000000000000006');
  const down = await runCli(['wal', 'ship', '--once'], { ...env, NAS_MOUNT_PATH: tempDir(t, 'officine-notmounted-') });
  t.equal(down.code, 1, 'exit 1 when a segment could not be shipped');
  t.match(down.stdout, /0 segment\(s\) WAL envoyé\(s\), 000000010000000000000006 non envoyé \(gardé\) ; 1 en attente\./);
  t.match(down.stderr, /backup\.upload_failed/, 'failure alerted (log)');
  t.same(readdirSync(f.dir), ['000000010000000000000006'], 'kept in the spool');
});

t.test('scheduler job backup.wal-ship: a failed pass is journaled and alerted to the operators, retried a minute later, resolved once shipped', async (t) => {
  const f = shipperFixture(t);
  const { ds } = await createTestDataSource(t);
  let now = new Date();
  const downDir = tempDir(t, 'officine-notmounted-');
  const config = loadConfig({ envFile: '/dev/null', env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: f.config.dataDir, BACKUP_WAL_ARCHIVING: 'on', BACKUP_RECIPIENTS: f.vault.recipient, BACKUP_TARGETS: 'nas', NAS_MODE: 'mount', NAS_MOUNT_PATH: downDir, BACKUP_WAL_SPOOL_DIR: f.dir } });
  const app: AppContext = { config, db: ds, logger: createLogger('silent'), secrets: undefined as never, clock: { now: () => now }, version: APP_VERSION };
  const job = walShipJob();
  const runs = new JobRunRepository(ds);
  t.equal((await runJobOnce(app, job)).outcome, 'succeeded', 'idle pass');
  t.same(await runs.recent(job.name), [], 'not journaled');

  f.put('000000010000000000000001', 700);
  t.equal((await runJobOnce(app, job)).outcome, 'succeeded');
  const [failed] = await runs.recent(job.name);
  t.match(failed?.details, { shipped: 0, failed: '000000010000000000000001', remaining: 1 }, 'the failed pass journaled with what is left');
  const firing = (await ds.query(`SELECT key FROM ops_alert_states ORDER BY key`)) as { key: string }[];
  t.same(firing.map((r) => r.key), ['ext:wal-spool:backup.upload_failed', 'ext:wal-spool:backup.wal_spool_stale'], 'upload failure and late spool routed to the operators');

  // NAS back (mounted), but within the minute after the failure: no attempt yet.
  const nasDir = mountTmpfs(t);
  app.config = { ...config, NAS_MOUNT_PATH: nasDir };
  now = new Date(now.getTime() + 30_000);
  await runJobOnce(app, job);
  t.same(readdirSync(f.dir), ['000000010000000000000001'], 'retry waits a minute after a failed pass');
  now = new Date(now.getTime() + 31_000);
  await runJobOnce(app, job);
  t.same(readdirSync(f.dir), [], 'shipped on the next attempt');
  t.ok(existsSync(join(nasDir, layout.wal('000000010000000000000001'))));
  t.match((await runs.recent(job.name))[0]?.details, { shipped: 1, failed: null, remaining: 0 });
  t.same(await ds.query(`SELECT key FROM ops_alert_states`), [], 'alerts resolved');
});

t.test('scheduler job backup.wal-ship with archiving off and no spool directory: idle, nothing journaled', async (t) => {
  const { ds } = await createTestDataSource(t);
  const config = testConfig(t, { BACKUP_WAL_SPOOL_DIR: join(tempDir(t), 'absent') });
  const app: AppContext = { config, db: ds, logger: createLogger('silent'), secrets: undefined as never, clock: { now: () => new Date() }, version: APP_VERSION };
  t.same(await runJobOnce(app, walShipJob()), { outcome: 'succeeded', runId: '' });
  t.same(await new JobRunRepository(ds).recent('backup.wal-ship'), [], 'no journal row every 5 s on hosts that do not archive');
});
