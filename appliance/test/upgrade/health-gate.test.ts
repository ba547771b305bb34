// `appliance upgrade apply` of a release that migrates fine but then fails the health gate
// (its /readyz never answers 200, or the smoke query fails): the upgrade returns to the
// previous release by itself, restores the pre-upgrade database snapshot, and says so.
// The releases are tiny: their CLI entry is a loopback /readyz server that the stop/start
// commands really stop and start from `current`; the migrations are this build's plus
// test ones, run by the real migrator on a cloned test database.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pgLib from 'pg';
import t, { type Test } from 'tap';
import { readUpgradeJournal } from '../../src/upgrade/upgrade-ports.js';
import { fingerprint } from '../backup/helpers.js';
import { tempDir } from '../helpers/app.js';
import { migrationEntryPointsOverlay, pinnedKeyAndBundle, testMigrationsSource, writeInstalledRelease } from '../helpers/bundle.js';
import { freePort } from '../helpers/caddy.js';
import { createTestDatabase } from '../helpers/db.js';
import { cliEnv, runCli } from '../helpers/ops-process.js';

async function query<T>(url: string, sql: string): Promise<T[]> {
  const c = new pgLib.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

/** A release's CLI entry that serves /readyz on $PORT with a fixed status (what "serve" is here). */
const readyzEntry = (status: number) =>
  `import { createServer } from 'node:http';\n` +
  `createServer((req, res) => res.writeHead(req.url === '/readyz' ? ${status} : 404).end('${status}')).listen(Number(process.env.PORT), '127.0.0.1');\n`;

/** A migration that breaks what the gate's smoke query reads (a release bug the gate must catch). */
const renamePharmaciesSource = `export class RenamePharmacies1763770000003 {
  name = 'RenamePharmacies1763770000003';
  async up(q) { await q.query('ALTER TABLE pharmacies RENAME TO pharmacies_v2'); }
  async down(q) { await q.query('ALTER TABLE pharmacies_v2 RENAME TO pharmacies'); }
}
export const testMigrations = [RenamePharmacies1763770000003];
`;

/**
 * An installed 0.1.0 serving /readyz 200 (started here through the same start command
 * the upgrade uses), pinned keys, and a signed 0.2.0 bundle with `entry` and `migrations`.
 */
async function fixture(t: Test, next: { entry: string; migrations: string }) {
  const db = await createTestDatabase(t);
  const dir = tempDir(t, 'officine-health-gate-');
  const installDir = join(dir, 'opt');
  writeInstalledRelease(installDir, '0.1.0');
  mkdirSync(join(installDir, 'releases/0.1.0/dist/appliance/src/cli'), { recursive: true });
  writeFileSync(join(installDir, 'releases/0.1.0/dist/appliance/src/cli/main.js'), readyzEntry(200));
  const { keysFile, bundle } = await pinnedKeyAndBundle(dir, { ...migrationEntryPointsOverlay({ migrations: next.migrations }), 'dist/appliance/src/cli/main.js': next.entry });

  const servicesLog = join(dir, 'services.log');
  const pidFile = join(dir, 'app.pid');
  const current = join(installDir, 'current');
  const start = [
    `echo "start $(readlink '${current}')" >> '${servicesLog}'`,
    `cd '${current}' || exit 1`,
    `'${process.execPath}' dist/appliance/src/cli/main.js < /dev/null >> '${join(dir, 'app.out')}' 2>&1 &`,
    `echo $! > '${pidFile}'`,
  ].join('\n');
  const stop = [
    `echo stop >> '${servicesLog}'`,
    `[ -f '${pidFile}' ] || exit 0`,
    `p=$(cat '${pidFile}'); rm -f '${pidFile}'; kill "$p" 2>/dev/null`,
    `i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done`,
  ].join('\n');
  const port = await freePort();
  const env = cliEnv(db.url, dir, {
    LOG_LEVEL: 'info',
    INSTALL_DIR: installDir,
    RELEASE_KEYS_FILE: keysFile,
    PORT: String(port),
    SERVICE_MANAGER: 'command',
    SERVICE_STOP_COMMAND: stop,
    SERVICE_START_COMMAND: start,
    UPGRADE_HEALTH_TIMEOUT_S: '5', // the schema's minimum: the 503 release costs these seconds
  });
  execFileSync('sh', ['-c', start], { env });
  t.teardown(() => void execFileSync('sh', ['-c', stop], { env }));
  await query(db.url, `INSERT INTO groupements (name) VALUES ('Groupement témoin')`);
  return { db, dir, installDir, bundle, env, servicesLog, readyz: `http://127.0.0.1:${port}/readyz` };
}

/** Waits (briefly) for the served /readyz status; 0 when nothing answers. */
async function readyzStatus(url: string): Promise<number> {
  for (let i = 0; i < 50; i++) {
    try {
      return (await fetch(url, { signal: AbortSignal.timeout(1000) })).status;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return 0;
}

/** Applies the bundle and checks every sign of a rollback at the `health` step. */
async function applyAndExpectRollback(t: Test, u: Awaited<ReturnType<typeof fixture>>, reason: RegExp, migrations: string[]) {
  t.equal(await readyzStatus(u.readyz), 200, '0.1.0 serving before the upgrade');
  const { 'public.audit_log': _a, ...before } = await fingerprint(u.db.url);

  const r = await runCli(['upgrade', 'apply', u.bundle], u.env);
  t.equal(r.code, 1, 'apply exits non-zero');
  t.match(r.stderr, /Mise à jour annulée à l’étape « health » : la version 0\.1\.0 et sa base de données ont été restaurées/, 'French message naming the step');
  t.match(r.stderr, reason, 'the gate’s reason is shown');

  t.equal(readlinkSync(join(u.installDir, 'current')), join('releases', '0.1.0'), 'current points back to 0.1.0');
  t.same(readdirSync(join(u.installDir, 'releases')), ['0.1.0'], 'the failed release is removed');
  t.same(readFileSync(u.servicesLog, 'utf8').split('\n').filter(Boolean), ['start releases/0.1.0', 'stop', 'start releases/0.2.0', 'stop', 'start releases/0.1.0'], '0.2.0 was started, then stopped for 0.1.0');
  t.equal(await readyzStatus(u.readyz), 200, '0.1.0 serving /readyz 200 again');

  const journal = readUpgradeJournal(u.dir, 100);
  t.same(
    journal.map((e) => e.action),
    ['upgrade.started', 'upgrade.verified', 'upgrade.backup', 'upgrade.stopped', 'upgrade.snapshot', 'upgrade.migrated', 'upgrade.switched', 'upgrade.failed', 'upgrade.rollback.database_restored', 'upgrade.rolled_back'],
    'journal: migrated and switched, failed, then restored and rolled back',
  );
  t.same(journal.find((e) => e.action === 'upgrade.migrated')?.migrations, migrations, 'journal: the release’s migrations really ran before the gate');
  t.match(journal.find((e) => e.action === 'upgrade.failed'), { step: 'health', error: reason }, 'journal: failed at health, with the reason');
  t.match(journal.at(-1), { from: '0.1.0', to: '0.2.0', failedStep: 'health' }, 'journal: rolled_back names the health step');
  t.notOk(existsSync(join(u.dir, 'upgrades', 'pre-upgrade-0.1.0-to-0.2.0.dump')), 'snapshot file removed after the rollback');

  const { 'public.audit_log': _b, ...after } = await fingerprint(u.db.url);
  t.same(after, before, 'every table as before the upgrade (the migrated snapshot restored)');
  const audit = await query<{ action: string; level: string; details: Record<string, unknown> }>(u.db.url, `SELECT action, level, details FROM audit_log WHERE action LIKE 'upgrade.%' ORDER BY id`);
  // the restore wipes what was written after the snapshot; the rollback records the failure again
  t.same(audit.map((a) => a.action), ['upgrade.started', 'upgrade.verified', 'upgrade.backup', 'upgrade.stopped', 'upgrade.rollback.database_restored', 'upgrade.rolled_back'], 'audit log: the restored chain, then the rollback');
  t.match(audit.at(-2), { level: 'info', details: { failedStep: 'health', error: reason } }, 'audit: database restored after a health failure');
  t.match(audit.at(-1), { level: 'warning', details: { from: '0.1.0', to: '0.2.0', failedStep: 'health' } }, 'audit: rolled_back at the health step');
  const chain = await runCli(['audit', 'verify'], u.env);
  t.equal(chain.code, 0, `audit hash chain intact after the restore${chain.code ? `: ${chain.stdout}${chain.stderr}` : ''}`);
}

t.test('a release that migrates but never answers /readyz 200 is rolled back by itself: 0.1.0 serving, database as before', async (t) => {
  const u = await fixture(t, { entry: readyzEntry(503), migrations: testMigrationsSource() });
  await applyAndExpectRollback(t, u, /not ready \(HTTP 503\)/, ['UpgradeProbe1763770000001', 'UpgradeGuard1763770000002']);
  t.same(await query(u.db.url, `SELECT to_regclass('public.upgrade_probe') AS t`), [{ t: null }], 'the table its migration created is gone');
  t.same(await query(u.db.url, `SELECT name FROM groupements WHERE name LIKE 'Groupement témoin%'`), [{ name: 'Groupement témoin' }], 'the rows its migration changed are back');
  t.same(await query(u.db.url, `SELECT name FROM schema_migrations WHERE name LIKE 'UpgradeProbe%'`), [], 'its migration is no longer recorded');
});

t.test('a release whose smoke query fails (/readyz 200, a table it renamed) is rolled back the same way', async (t) => {
  const u = await fixture(t, { entry: readyzEntry(200), migrations: renamePharmaciesSource });
  await applyAndExpectRollback(t, u, /relation "pharmacies" does not exist/, ['RenamePharmacies1763770000003']);
  t.same(await query(u.db.url, `SELECT to_regclass('public.pharmacies')::text AS t, to_regclass('public.pharmacies_v2') AS v2`), [{ t: 'pharmacies', v2: null }], 'the renamed table is back under its name');
});
