// Point-in-time restore through the real console: `appliance backup run` (dump + base
// backup) on a cluster whose archive_command is the spool script (shipped by the test's
// shipper, as the scheduler's backup.wal-ship job does), then
// `appliance restore --until TIME --target-url URL`. Segments are sealed with
// pg_switch_wal here (the RPO without it is wal-pitr.test.ts's subject).
import t from 'tap';
import { tempDir } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { query, walArchivingCluster } from './helpers.js';

t.test('console: restore --until TIME --target-url brings back a write made before TIME, not one made after', async (t) => {
  const { vault, nasDir, config, cluster, dbUrl, ds, shippedWithin } = await walArchivingCluster(t, { archiveTimeoutS: 300 });
  await ds.query(`CREATE TABLE events (id serial PRIMARY KEY, batch text NOT NULL)`);
  await ds.query(`INSERT INTO events (batch) SELECT 'base' FROM generate_series(1, 100)`);
  const env = {
    DATABASE_URL: dbUrl,
    SECRETS_DIR: config.secretsDir,
    DATA_DIR: config.dataDir,
    BACKUP_RECIPIENTS: vault.recipient,
    BACKUP_TARGETS: 'nas',
    NAS_MODE: 'mount',
    NAS_MOUNT_PATH: nasDir,
    BACKUP_WAL_ARCHIVING: 'on',
  };
  const b = await runCli(['backup', 'run', '--json'], env);
  t.equal(b.code, 0, 'backup run exits 0', { stderr: b.stderr });
  const backup = JSON.parse(b.stdout) as { id: string; status: string; manifest: { base?: { startWal: string } } };
  t.equal(backup.status, 'verified');
  t.ok(backup.manifest.base?.startWal, 'with a base backup for point-in-time restore');

  /** Seals the current segment and waits until it is spooled and shipped. */
  const sealAndShip = async () => {
    const seg = ((await ds.query(`SELECT pg_walfile_name(pg_current_wal_lsn()) AS seg, pg_switch_wal()`)) as { seg: string }[])[0]!.seg;
    t.ok((await shippedWithin(seg, 30)) !== null, `segment ${seg} shipped`);
  };
  await ds.query(`INSERT INTO events (batch) SELECT 'before' FROM generate_series(1, 50)`);
  await new Promise((r) => setTimeout(r, 1100));
  const until = ((await ds.query(`SELECT clock_timestamp() AS at`)) as { at: Date }[])[0]!.at;
  await new Promise((r) => setTimeout(r, 1100));
  await ds.query(`INSERT INTO events (batch) SELECT 'after' FROM generate_series(1, 30)`);
  await sealAndShip();
  await ds.destroy(); // the restore swaps the database: no session may hold it

  const refused = await runCli(['restore', '--identity', vault.identity, '--from', 'nas', '--until', 'hier', '--target-url', dbUrl], env);
  t.equal(refused.code, 1, 'an unreadable --until is refused');
  t.match(refused.stderr, /Erreur : restauration refusée ou échouée\n  \(--until: invalid date\)/);
  const tooEarly = await runCli(['restore', '--identity', vault.identity, '--from', 'nas', '--until', '2000-01-01T00:00:00Z', '--target-url', dbUrl, '--workdir', tempDir(t)], env);
  t.equal(tooEarly.code, 1, 'a time before any base backup is refused');
  t.match(tooEarly.stderr, /restauration refusée ou échouée\n  \(restore_backup_not_found: Aucune sauvegarde vérifiable ne convient\.\)/, 'with the reason, in French');
  t.same(await query(dbUrl, `SELECT count(*)::int AS n FROM events`), [{ n: 180 }], 'refusals left the database alone');

  const r = await runCli(['restore', '--identity', vault.identity, '--from', 'nas', '--until', until.toISOString(), '--target-url', dbUrl, '--workdir', tempDir(t)], env);
  t.equal(r.code, 0, 'restore --until exits 0', { stderr: r.stderr });
  const m = /^Restauration de (\S+) vérifiée \((\d+) tables\) dans app\. Ancienne base conservée sous (\S+)\.\n$/.exec(r.stdout);
  t.ok(m, 'French confirmation', { stdout: r.stdout });
  t.equal(m?.[1], `${backup.id}_pitr`, 'from the base backup made before TIME');
  t.same(await query(dbUrl, `SELECT batch, count(*)::int AS n FROM events GROUP BY batch ORDER BY batch`), [{ batch: 'base', n: 100 }, { batch: 'before', n: 50 }], 'the write before TIME is back, the one after is absent');
  t.same(await query(cluster.adminUrl, `SELECT count(*)::int AS n FROM pg_database WHERE datname = '${m?.[3] ?? ''}'`), [{ n: 1 }], 'the replaced database is kept under its new name');
});
