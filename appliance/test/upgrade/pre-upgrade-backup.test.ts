// `appliance upgrade apply` with a backup target configured: the pre-upgrade backup is a
// real `appliance backup run` of the current release (pg_dump | zstd | age onto a NAS
// mount, verified there), taken before anything is stopped or switched, and recorded in
// the upgrade journal and the audit log. A failing backup stops the upgrade untouched.
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pgLib from 'pg';
import t, { type Test } from 'tap';
import { projectRoot } from '../../src/config/version.js';
import { readUpgradeJournal } from '../../src/upgrade/upgrade-ports.js';
import { tempDir } from '../helpers/app.js';
import { migrationEntryPointsOverlay, pinnedKeyAndBundle, readyzServer, writeInstalledRelease } from '../helpers/bundle.js';
import { createTestDatabase } from '../helpers/db.js';
import { runCli } from '../helpers/ops-process.js';
import { backupFixture, fingerprint } from '../backup/helpers.js';

const root = projectRoot();

/** Files of the tree under `dir` whose path contains `needle`. */
function filesWith(dir: string, needle: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((p) => p.includes(needle));
}

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pgLib.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/**
 * An installed 0.1.0 whose code is this build (dist symlinked, so its `backup run` is the
 * real one), pinned release keys, a signed 0.2.0 bundle (its migration entry points
 * re-export this build's: no new migration), a loopback /readyz for the health gate, and
 * stop/start commands that record their calls.
 */
async function upgradeFixture(t: Test, nasPath: string, f: Awaited<ReturnType<typeof backupFixture>>) {
  const dir = tempDir(t, 'officine-preupgrade-');
  const installDir = join(dir, 'opt');
  writeInstalledRelease(installDir, '0.1.0');
  symlinkSync(join(root, 'dist'), join(installDir, 'releases/0.1.0/dist'));
  // The current release's runtime (runtime/bin/node): records each run, then is this Node.
  const runtimeLog = join(dir, 'runtime.log');
  mkdirSync(join(installDir, 'releases/0.1.0/runtime/bin'), { recursive: true });
  writeFileSync(join(installDir, 'releases/0.1.0/runtime/bin/node'), `#!/bin/sh\necho "$*" >> '${runtimeLog}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
  const { keysFile, bundle } = await pinnedKeyAndBundle(dir, migrationEntryPointsOverlay());
  const port = await readyzServer(t);
  const servicesLog = join(dir, 'services.log');
  writeFileSync(servicesLog, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    OFFICINE_ENV_FILE: '/dev/null',
    DATABASE_URL: f.db.url,
    DATA_DIR: f.config.dataDir,
    SECRETS_DIR: f.config.secretsDir,
    LOG_LEVEL: 'warn',
    BACKUP_RECIPIENTS: f.config.BACKUP_RECIPIENTS.join(','),
    BACKUP_TARGETS: 'nas',
    NAS_MODE: 'mount',
    NAS_MOUNT_PATH: nasPath,
    INSTALL_DIR: installDir,
    RELEASE_KEYS_FILE: keysFile,
    PORT: String(port),
    SERVICE_MANAGER: 'command',
    SERVICE_STOP_COMMAND: `echo stop >> '${servicesLog}'`,
    SERVICE_START_COMMAND: `echo start >> '${servicesLog}'`,
    UPGRADE_HEALTH_TIMEOUT_S: '30',
  };
  return { installDir, bundle, env, servicesLog, runtimeLog, current: () => readlinkSync(join(installDir, 'current')) };
}

t.test('upgrade apply takes a real, verified, restorable backup before switching; journaled and audited', async (t) => {
  const f = await backupFixture(t, { rows: 500 });
  const u = await upgradeFixture(t, f.nasDir, f);
  const before = await fingerprint(f.db.url);

  const r = await runCli(['upgrade', 'apply', u.bundle], u.env);
  t.equal(r.code, 0, `apply exits 0${r.code ? `: ${r.stderr}` : ''}`);
  t.match(r.stdout, /Mise à jour appliquée : version 0\.2\.0 en service/);
  t.equal(u.current(), join('releases', '0.2.0'), 'current switched to 0.2.0');
  t.equal(readFileSync(u.servicesLog, 'utf8'), 'stop\nstart\n', 'services stopped once, started once');
  t.match(readFileSync(u.runtimeLog, 'utf8'), /^\S+\/current\/dist\/appliance\/src\/cli\/main\.js backup run --json$/m, 'the backup ran on the current release’s own runtime (runtime/bin/node)');

  const journal = readUpgradeJournal(f.config.dataDir, 100);
  const actions = journal.map((e) => e.action);
  t.same(actions, ['upgrade.started', 'upgrade.verified', 'upgrade.backup', 'upgrade.stopped', 'upgrade.snapshot', 'upgrade.migrated', 'upgrade.switched', 'upgrade.completed'], 'every step, the backup before the stop');
  const step = journal.find((e) => e.action === 'upgrade.backup')!;
  t.equal(step.result, 'done', 'the backup ran (not no_target)');
  t.equal(step.backupStatus, 'verified', 'verified on the target');
  const backupId = step.backupId as string;
  t.match(backupId, /\S{8,}/, 'the journal names the backup');

  const [record] = await query<{ status: string; finished_at: Date }>(f.db.url, 'SELECT status, finished_at FROM backup_records WHERE id = $1', [backupId]);
  t.equal(record?.status, 'verified', 'the backup journal of the appliance holds it, verified');
  const stopped = journal.find((e) => e.action === 'upgrade.stopped')!;
  t.ok(record && record.finished_at.getTime() <= new Date(stopped.at).getTime(), 'finished before the services were stopped');
  t.ok(filesWith(f.nasDir, backupId).length > 0, 'its files are on the NAS mount');

  const audit = await query<{ action: string; details: Record<string, unknown> }>(f.db.url, `SELECT action, details FROM audit_log WHERE action LIKE 'upgrade.%' ORDER BY id`);
  t.same(audit.map((a) => a.action), actions, 'the same steps in the audit log');
  t.same(audit.find((a) => a.action === 'upgrade.backup')?.details, { from: '0.1.0', to: '0.2.0', result: 'done', backupId, backupStatus: 'verified' }, 'the audit entry names the backup');

  // The pre-upgrade backup restores: the data as it was before the upgrade.
  const target = await createTestDatabase(t, { empty: true });
  const restore = await runCli(['restore', '--identity', f.drill.identity, '--from', 'nas', '--backup', backupId, '--target-url', target.url], u.env);
  t.equal(restore.code, 0, `restore of the pre-upgrade backup exits 0${restore.code ? `: ${restore.stderr}` : ''}`);
  const { 'public.audit_log': restoredAudit, ...restored } = await fingerprint(target.url);
  const { 'public.audit_log': _auditBefore, ...expected } = before;
  t.same(restored, expected, 'restored data equals the pre-upgrade data');
  t.equal(restoredAudit?.rows, 2, 'its audit log holds what was written before the backup');
  t.same((await query<{ action: string }>(target.url, 'SELECT action FROM audit_log ORDER BY id')).map((a) => a.action), ['upgrade.started', 'upgrade.verified'], 'taken after the verification, before any change');
});

t.test('a failing pre-upgrade backup stops the upgrade before anything is touched', async (t) => {
  const f = await backupFixture(t, { rows: 50 });
  const notMounted = tempDir(t, 'officine-nas-unmounted-'); // a plain folder: the NAS mount target refuses it
  const u = await upgradeFixture(t, notMounted, f);

  const r = await runCli(['upgrade', 'apply', u.bundle], u.env);
  t.equal(r.code, 1, 'apply exits 1');
  t.match(r.stderr, /Mise à jour annulée : la sauvegarde préalable a échoué \(version 0\.1\.0 toujours en service/, 'French reason');
  t.equal(u.current(), join('releases', '0.1.0'), 'current unchanged');
  t.same(readdirSync(join(u.installDir, 'releases')).sort(), ['0.1.0'], 'the unpacked release is removed');
  t.equal(readFileSync(u.servicesLog, 'utf8'), '', 'services never stopped');
  t.notOk(existsSync(join(f.config.dataDir, 'upgrades', 'pre-upgrade-0.1.0-to-0.2.0.dump')), 'no snapshot taken');
  const journal = readUpgradeJournal(f.config.dataDir, 100);
  t.same(journal.map((e) => e.action), ['upgrade.started', 'upgrade.verified', 'upgrade.failed']);
  t.equal(journal[2]!.step, 'backup', 'failed at the backup step');
  const [alert] = await query<{ level: string; details: { step: string } }>(f.db.url, `SELECT level, details FROM audit_log WHERE action = 'upgrade.failed'`);
  t.equal(alert?.level, 'alert', 'audited as an alert');
  t.equal(alert?.details.step, 'backup');
});
