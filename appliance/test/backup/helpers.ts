import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pgLib from 'pg';
import type { Test } from 'tap';
import { loadConfig, type Config } from '../../src/config/config.js';
import { SecretStore } from '../../src/config/secrets.js';
import { APP_VERSION, projectRoot } from '../../src/config/version.js';
import { createLogger, type Logger } from '../../src/logging/logger.js';
import { BackupService } from '../../src/backup/backup.service.js';
import type { BackupTarget } from '../../src/backup/targets/backup-target.js';
import { DirectoryStore } from '../../src/backup/targets/directory-store.js';
import { layout } from '../../src/backup/backup-manifest.js';
import { withDatabase } from '../../src/backup/backup-settings.js';
import { freePort, startThrowawayPostgres } from '../../src/backup/throwaway-postgres.js';
import { postgresFlags, walArchivingSettings, walSpoolScript } from '../../src/backup/wal-settings.js';
import { backupRecipients, backupTools } from '../../src/backup/backup-settings.js';
import { LogAlerter } from '../../src/backup/backup-alerts.js';
import { shipWalSpool, type WalShipReport } from '../../src/backup/wal-archive.service.js';
import { createDataSource } from '../../src/db/data-source.js';
import { migrateUp } from '../../src/db/migrator.js';
import { createTestDataSource } from '../helpers/db.js';
import { tempDir } from '../helpers/app.js';

/** An age key pair made by the Debian age-keygen (identity file 0600 + public recipient). */
export function ageKeyPair(dir: string, name: string): { identity: string; recipient: string } {
  const identity = join(dir, `${name}.key`);
  execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
  chmodSync(identity, 0o600);
  return { identity, recipient: execFileSync('age-keygen', ['-y', identity]).toString().trim() };
}

/** A tmpfs mounted for the test (a real mount point, as the NAS mount target requires). */
export function mountTmpfs(t: Test, mode = '0700'): string {
  const dir = tempDir(t, 'officine-mnt-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=512m,mode=${mode}`, 'tmpfs', dir]);
  t.teardown(() => {
    execFileSync('umount', ['-l', dir]);
  });
  return dir;
}

/** Log lines captured from a logger, parsed. */
export function captureLogger(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger(level, dest as never), lines };
}

/** Test configuration on top of defaults. */
export function testConfig(t: Test, env: Record<string, string>): Config {
  const dataDir = tempDir(t, 'officine-data-');
  return loadConfig({ envFile: '/dev/null', env: { NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env } });
}

/**
 * A fresh database with recognisable data: the foundation tables plus a fact table
 * with a composite key and foreign keys (some thousands of rows).
 */
export async function seededDatabase(t: Test, rows = 5000) {
  const db = await createTestDataSource(t);
  await db.ds.query(`INSERT INTO groupements (name) VALUES ('Groupement test')`);
  await db.ds.query(
    `INSERT INTO pharmacies (groupement_id, name, finess) SELECT g.id, 'Pharmacie ' || i, lpad(i::text, 9, '0') FROM groupements g, generate_series(1, 20) i`,
  );
  await db.ds.query(`
    CREATE TABLE bk_sales (
      pharmacy_id uuid NOT NULL REFERENCES pharmacies(id),
      source_id bigint NOT NULL,
      sold_at timestamptz NOT NULL,
      cip13 char(13) NOT NULL,
      amount_cents integer NOT NULL,
      label text,
      PRIMARY KEY (pharmacy_id, source_id)
    )`);
  await db.ds.query(
    `INSERT INTO bk_sales SELECT p.id, i, timestamptz '2026-01-01' + i * interval '1 minute', '34009' || lpad((i % 99999999)::text, 8, '0'), (i * 37) % 10000, 'vente é ' || md5(i::text)
       FROM (SELECT id, row_number() OVER (ORDER BY finess) AS n FROM pharmacies) p, generate_series(1, $1::int) i WHERE i % 20 = p.n - 1`,
    [rows],
  );
  return db;
}

/** Per-table row count and content checksum: what a faithful restore must reproduce. */
export async function fingerprint(url: string): Promise<Record<string, { rows: number; md5: string }>> {
  const c = new pgLib.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = (
      await c.query<{ t: string }>(`SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
    ).rows.map((r) => r.t);
    const out: Record<string, { rows: number; md5: string }> = {};
    for (const t of tables) {
      const r = await c.query<{ n: string; h: string | null }>(`SELECT count(*)::text AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${t} x`);
      out[t] = { rows: Number(r.rows[0]!.n), md5: r.rows[0]!.h ?? '' };
    }
    return out;
  } finally {
    await c.end();
  }
}

/** Everything a backup test needs: a seeded DB, keys, a NAS mount, config and a service factory. */
export async function backupFixture(t: Test, opts: { rows?: number; extraEnv?: Record<string, string> } = {}) {
  const db = await seededDatabase(t, opts.rows);
  const keys = tempDir(t, 'officine-keys-');
  const vault = ageKeyPair(keys, 'vault');
  const drill = ageKeyPair(keys, 'drill');
  const nasDir = mountTmpfs(t);
  const config = testConfig(t, {
    BACKUP_RECIPIENTS: `${vault.recipient},${drill.recipient}`,
    BACKUP_TARGETS: 'nas',
    NAS_MODE: 'mount',
    NAS_MOUNT_PATH: nasDir,
    ...opts.extraEnv,
  });
  mkdirSync(config.secretsDir, { recursive: true, mode: 0o700 });
  const secrets = new SecretStore(config.secretsDir);
  const log = captureLogger();
  const nas = new DirectoryStore('nas', nasDir, { requireMount: true });
  const service = (targets: BackupTarget[] = [nas], clock = { now: () => new Date() }) =>
    new BackupService({ config, dbUrl: db.url, db: db.ds, logger: log.logger, secrets, clock, version: APP_VERSION, targets });
  return { db, vault, drill, nasDir, nas, config, secrets, log, service, keysDir: keys };
}

/** Writes a file with given mode (helper for secret files in tests). */
export function writeFileMode(path: string, data: string, mode: number): void {
  writeFileSync(path, data, { mode });
  chmodSync(path, mode);
}

/** An ed25519 SSH key pair (no passphrase); returns the public key's SHA256 fingerprint. */
export function keygen(path: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path]);
  return execFileSync('ssh-keygen', ['-lf', `${path}.pub`]).toString().split(' ')[1]!;
}

export async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, '127.0.0.1', () => (s.end(), res(true)));
      s.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not listen on ${port}`);
}

/**
 * A real sshd on 127.0.0.1 with the given host key, accepting only `authorizedKey`;
 * `stop()` takes it down (the NAS going away), the test's teardown too.
 */
export async function startSshd(t: Test, dir: string, hostKey: string, authorizedKey: string): Promise<{ port: number; stop: () => Promise<void> }> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const user = execFileSync('id', ['-un']).toString().trim();
  const cfg = join(dir, `sshd_${port}.conf`);
  writeFileSync(
    cfg,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, `sshd_${port}.pid`)}`,
      `AuthorizedKeysFile ${authorizedKey}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  const sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfg], { stdio: 'ignore' });
  const exited = new Promise<void>((res) => sshd.once('exit', () => res()));
  const stop = async () => {
    if (sshd.exitCode === null && sshd.signalCode === null) {
      // its per-connection children too, as when the NAS goes down: open sessions end
      spawnSync('pkill', ['-TERM', '-P', String(sshd.pid)]);
      sshd.kill('SIGTERM');
    }
    await exited;
  };
  t.teardown(stop);
  await waitPort(port);
  return { port, stop };
}

/** One query on a fresh connection (for databases a restore renames or replaces). */
export async function query<T extends pgLib.QueryResultRow = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const c = new pgLib.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

/**
 * A throwaway PostgreSQL cluster configured by walArchivingSettings (what install.sh
 * renders for production), whose archive_command is the release's spool script
 * (`provisioning/officine-wal-spool %p %f SPOOL`) run by PostgreSQL itself (as the
 * postgres user when the suite runs as root), and a shipper running in the test process
 * like the scheduler's `backup.wal-ship` job (shipWalSpool every second, `shipper.stop()`
 * pauses it) that seals segments to the vault recipient on a tmpfs NAS; with a migrated
 * `app` database (`ds`, closed at teardown).
 */
export async function walArchivingCluster(t: Test, opts: { archiveTimeoutS: number }) {
  const keysDir = tempDir(t, 'officine-keys-');
  const vault = ageKeyPair(keysDir, 'vault');
  const nasDir = mountTmpfs(t);
  const spoolDir = tempDir(t, 'officine-walspool-');
  chmodSync(spoolDir, 0o777); // PostgreSQL's archive_command writes here as the postgres user
  const config = testConfig(t, {
    BACKUP_RECIPIENTS: vault.recipient,
    BACKUP_TARGETS: 'nas',
    NAS_MODE: 'mount',
    NAS_MOUNT_PATH: nasDir,
    BACKUP_WAL_ARCHIVING: 'on',
    BACKUP_WAL_ARCHIVE_TIMEOUT: String(opts.archiveTimeoutS),
    BACKUP_WAL_SPOOL_DIR: spoolDir,
  });
  const settings = walArchivingSettings(config, { script: walSpoolScript(join(projectRoot(), 'dist/appliance/src/cli/main.js')), spoolDir });
  const shipper = walShipperLoop(t, config, new DirectoryStore('nas', nasDir, { requireMount: true }));
  const cluster = await startThrowawayPostgres({ flags: postgresFlags(settings) });
  t.teardown(() => cluster.stop());
  const dbUrl = withDatabase(cluster.adminUrl, 'app');
  await query(cluster.adminUrl, 'CREATE DATABASE app');
  const ds = createDataSource(dbUrl, { poolSize: 2 });
  await ds.initialize();
  t.teardown(async () => {
    if (ds.isInitialized) await ds.destroy();
  });
  await migrateUp(ds);
  /** Seconds until WAL segment `seg` is on the NAS, sealed (or null after `limitS`). */
  const shippedWithin = async (seg: string, limitS: number): Promise<number | null> => {
    const t0 = Date.now();
    while (Date.now() - t0 < limitS * 1000) {
      if (existsSync(join(nasDir, layout.walDir)) && readdirSync(join(nasDir, layout.walDir)).includes(`${seg}.zst.age`)) return (Date.now() - t0) / 1000;
      await new Promise((res) => setTimeout(res, 200));
    }
    return null;
  };
  return { vault, nasDir, spoolDir, config, cluster, dbUrl, ds, shippedWithin, shipper };
}

/**
 * The shipper as the scheduler runs it, in the test process: a shipWalSpool pass over
 * config's spool to `target` every `everyMs`; `passes` records each pass; stopped at teardown.
 */
export function walShipperLoop(t: Test, config: Config, target: BackupTarget, everyMs = 1000) {
  const logger = createLogger('warn');
  const passes: WalShipReport[] = [];
  let running = true;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const tick = () => {
    current = shipWalSpool({
      dir: config.BACKUP_WAL_SPOOL_DIR!, tools: backupTools(config), recipients: backupRecipients(config), targets: [target],
      logger, alerter: new LogAlerter(logger), now: () => new Date(), maxAgeS: config.BACKUP_WAL_SPOOL_MAX_AGE_S,
    }).then((r) => void passes.push(r), (err: unknown) => logger.error({ err }, 'test shipper pass failed'))
      .finally(() => {
        if (running) timer = setTimeout(tick, everyMs);
      });
  };
  timer = setTimeout(tick, everyMs);
  const stop = async () => {
    running = false;
    if (timer) clearTimeout(timer);
    await current;
  };
  t.teardown(stop);
  return { passes, stop };
}
