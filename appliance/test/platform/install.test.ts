import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import pgLib from 'pg';
import t from 'tap';
import { applyRequestFile, incomingDir, writeApplyRequest } from '../../src/upgrade/apply-request.js';
import { projectRoot } from '../../src/config/version.js';
import { parseEnvFile } from '../../src/config/env-file.js';
import { buildBundle } from '../../src/upgrade/bundle-builder.js';
import { buildKeyList, generateReleaseKey } from '../../src/upgrade/release-signing.js';
import { listReleaseFiles } from '../../src/upgrade/release-tree.js';
import { tempDir } from '../helpers/app.js';
import { collectLogFile } from '../helpers/log-scan.js';
import { FAIL_MARKER, overlayRelease, testMigrationsSource } from '../helpers/bundle.js';
import { freePort, httpsGet } from '../helpers/caddy.js';

// One real installation into a scratch root, shared by the subtests below (in order):
// install → second run changes nothing → testssl → upgrade rolled back → upgrade applied.
t.setTimeout(600_000);
const INSTALL_SH = join(projectRoot(), 'provisioning', 'install.sh');
const root = tempDir(t, 'officine-root-');
const work = tempDir(t, 'officine-install-work-');
const ports = { http: await freePort(), https: await freePort(), app: await freePort(), pg: await freePort() };
const releaseKey = generateReleaseKey();
writeFileSync(join(work, 'release-keys.json'), JSON.stringify(buildKeyList([releaseKey.publicKey], 1)));
const args = [
  '--root', root, '--site', 'localhost', '--tls', 'internal', '--bind', '127.0.0.1', '--caddy-admin', 'off',
  '--http-port', String(ports.http), '--https-port', String(ports.https), '--app-port', String(ports.app), '--pg-port', String(ports.pg),
  '--release-keys', join(work, 'release-keys.json'), '--admin-email', 'dsi@groupement.test',
];

/** Runs a program without tap's NODE_OPTIONS loader (it would follow into every node the scripts start). */
function sh(cmd: string, cmdArgs: string[], timeoutMs = 300_000) {
  const r = spawnSync('env', ['-u', 'NODE_OPTIONS', cmd, ...cmdArgs], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
const services = (...a: string[]) => sh('bash', [join(root, 'opt/officine/current/provisioning/officine-services.sh'), '--root', root, ...a]);
t.teardown(() => {
  if (existsSync(join(root, 'etc/officine/install.env'))) services('stop');
  // the services' log files join the run's minimisation scan
  const logDir = join(root, 'var/log/officine');
  if (existsSync(logDir)) for (const f of readdirSync(logDir)) if (f.endsWith('.log')) collectLogFile(join(logDir, f));
});

const rootCa = () => readFileSync(join(root, 'var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt'), 'utf8');
async function readyThroughCaddy(timeoutMs = 60_000): Promise<{ status: number; headers: Record<string, unknown> }> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: number; headers: Record<string, unknown> } = { status: 0, headers: {} };
  while (Date.now() < deadline) {
    try {
      last = await httpsGet(`https://localhost:${ports.https}/readyz`, { ca: rootCa() });
      if (last.status === 200) return last;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return last;
}

/** Path, type, mode, owner and (size, mtime) of everything the installer manages. */
function snapshot(): string[] {
  const skip = ['var/lib/officine-postgresql', 'var/lib/caddy', 'var/log', 'run', 'var/lib/officine/upgrades'];
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip.includes(r)) continue;
      const st = lstatSync(join(root, r));
      const kind = st.isSymbolicLink() ? `-> ${readlinkSync(join(root, r))}` : st.isDirectory() ? 'dir' : `${st.size}@${st.mtimeMs}`;
      out.push(`${r} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${kind}`);
      // the WAL spool's content comes and goes with PostgreSQL and the scheduler; its mode and owner count
      if (st.isDirectory() && r !== 'var/lib/officine-wal-spool') walk(r);
    }
  };
  walk('');
  return out;
}

const env = () => parseEnvFile(readFileSync(join(root, 'etc/officine/appliance.env'), 'utf8'));
async function query<T>(sql: string): Promise<T[]> {
  const c = new pgLib.Client({ connectionString: env().DATABASE_URL });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

t.test('pre-checks fail clearly and --dry-run changes nothing', async (t) => {
  const fresh = tempDir(t, 'officine-dry-');
  const dry = sh('bash', [INSTALL_SH, ...args.map((a) => (a === root ? fresh : a)), '--dry-run']);
  t.equal(dry.code, 0, `dry run succeeds${dry.code ? `: ${dry.stderr}` : ''}`);
  t.match(dry.stdout, /\[dry-run\] \S*\/provisioning\/officine-node .*stage-release\.mjs/, 'shows the release it would stage (Node through the release launcher)');
  t.match(dry.stdout, /Modifications : 0/);
  t.same(readdirSync(fresh), [], 'nothing written');
  const ram = sh('bash', [INSTALL_SH, ...args, '--min-ram-mb', '99999999']);
  t.equal(ram.code, 1, 'too little RAM: exit 1');
  t.match(ram.stderr, /ERREUR : mémoire insuffisante/);
  const disk = sh('bash', [INSTALL_SH, ...args, '--min-disk-mb', '999999999']);
  t.match(disk.stderr, /ERREUR : disque insuffisant/);
  const blocker = createServer().listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const taken = String((blocker.address() as AddressInfo).port);
  const busy = sh('bash', [INSTALL_SH, ...args, '--app-port', taken]);
  blocker.close();
  t.equal(busy.code, 1, 'port in use: exit 1');
  t.match(busy.stderr, new RegExp(`ERREUR : le port ${taken} \\(app\\) est déjà utilisé`));
  t.same(readdirSync(root), [], 'nothing installed by the refused runs');
});

t.test('install.sh installs for real: app answers through Caddy over HTTPS', async (t) => {
  const first = sh('bash', [INSTALL_SH, ...args]);
  t.equal(first.code, 0, `install succeeds${first.code ? `:\n${first.stdout.slice(-3000)}\n${first.stderr.slice(-3000)}` : ''}`);
  t.match(first.stdout, new RegExp(`Adresse : https://localhost:${ports.https}/`), 'prints the URL');
  const secretKeys = [...first.stderr.matchAll(/AGE-SECRET-KEY-1[0-9A-Z]+/g)].map((m) => m[0]);
  t.equal(secretKeys.length, 2, 'vault and drill private keys printed once each');
  t.match(first.stderr, /Identifiant : dsi@groupement\.test\n\s+│ Mot de passe : \S{16,}/, 'first super-admin password shown once');
  t.match(first.stderr, /^URI : otpauth:\/\/totp\/dsi(%40|@)groupement\.test\?\S*\bsecret=[A-Z2-7]{32}\b/m, 'its TOTP enrolment URI shown');
  // eslint-disable-next-line no-control-regex
  t.match(first.stderr.replace(/\x1b\[[0-9;]*m/g, ''), /^ [ ▀▄█]{20,} $/m, 'with a terminal QR code');
  t.equal(first.stderr.match(/^ {2}[a-z2-9]{5}-[a-z2-9]{5}$/gm)?.length, 10, 'and its 10 recovery codes');
  t.same(
    await query(`SELECT role, status, totp_enabled_at IS NOT NULL AS totp FROM users WHERE email = 'dsi@groupement.test'`),
    [{ role: 'super_admin', status: 'active', totp: true }],
    'first super-admin created, TOTP enrolled',
  );
  const recipients = readFileSync(join(root, 'etc/officine/backup-recipients.txt'), 'utf8');
  t.equal(recipients.match(/^age1[0-9a-z]{58}$/gm)?.length, 2, 'two public recipients kept');
  t.notMatch(recipients, /SECRET/, 'no private key kept');

  const modes = (p: string) => {
    const st = lstatSync(join(root, p));
    return `${(st.mode & 0o777).toString(8)}`;
  };
  t.equal(modes('etc/officine'), '750', '/etc/officine 0750');
  for (const s of ['jwt-signing-key', 'data-key', 'db-password', 'appliance-x25519.pem', 'appliance-ed25519.pem']) {
    t.equal(modes(`etc/officine/secrets/${s}`), '600', `${s} 0600`);
  }
  t.match(readFileSync(join(root, 'etc/officine/secrets/appliance-x25519.pem'), 'utf8'), /BEGIN PRIVATE KEY/);
  t.equal(readlinkSync(join(root, 'opt/officine/current')), 'releases/0.1.0', 'current -> releases/<version>');
  t.ok(existsSync(join(root, 'opt/officine/releases/0.1.0/dist/appliance/src/cli/main.js')), 'release staged');
  t.notOk(existsSync(join(root, 'opt/officine/releases/0.1.0/node_modules/typescript')), 'no dev dependency in production');

  const ready = await readyThroughCaddy();
  t.equal(ready.status, 200, '/readyz 200 through Caddy, certificate verified against its local CA');
  t.equal(ready.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains', 'HSTS');
  t.equal(ready.headers['x-content-type-options'], 'nosniff', 'app security headers');
  const ps = sh('ps', ['-eo', 'user=,args=']).stdout.split('\n');
  t.ok(ps.some((l) => l.startsWith('officine ') && l.includes(`${root}/opt/officine/current/dist/appliance/src/cli/main.js serve`)), 'app runs as officine');
  t.ok(ps.some((l) => l.startsWith('caddy ') && l.includes(`${root}/opt/officine/current/Caddyfile`)), 'Caddy runs as caddy');
  t.ok(ps.some((l) => l.startsWith('postgres ') && l.includes(`${root}/var/lib/officine-postgresql`)), 'PostgreSQL runs as postgres');
  t.ok(ps.some((l) => l.startsWith('officine ') && l.includes('main.js scheduler')), 'scheduler runs as officine');
  // WAL archiving configured by install.sh (RPO ≤ 5 min), effective in the running cluster
  const settings = Object.fromEntries((await query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name IN ('archive_mode', 'archive_timeout', 'wal_level')`)).map((r) => [r.name, r.setting]));
  t.same(settings, { archive_mode: 'on', archive_timeout: '300', wal_level: 'replica' }, 'archive_mode on, archive_timeout 300 s in the installed cluster');
  t.same(await query(`SELECT rolreplication FROM pg_roles WHERE rolname = 'officine'`), [{ rolreplication: true }], 'officine may take base backups');
  t.equal((lstatSync(join(root, 'var/lib/officine-wal-spool')).mode & 0o7777).toString(8), '2770', 'WAL spool 2770 (setgid: spooled files get the officine group)');
  t.equal(sh('stat', ['-c', '%U:%G', join(root, 'var/lib/officine-wal-spool')]).stdout.trim(), 'postgres:officine', 'written by postgres, shipped by the officine scheduler');
  t.notOk(existsSync(join(root, 'etc/officine-wal')), 'no copy of the backup settings or secrets for the postgres user');
  const archiveCommand = (await query<{ setting: string }>(`SELECT setting FROM pg_settings WHERE name = 'archive_command'`))[0]?.setting;
  t.equal(archiveCommand, `${root}/opt/officine/current/provisioning/officine-wal-spool %p %f ${root}/var/lib/officine-wal-spool`, 'archive_command: the spool script');
  // A segment really goes through the spool script (PostgreSQL counts it archived once spooled).
  const installEnv = parseEnvFile(readFileSync(join(root, 'etc/officine/install.env'), 'utf8'));
  const psql = sh('runuser', ['-u', 'postgres', '--', `${installEnv.OFFICINE_PG_BIN}/psql`, '-X', '-tA', '-h', join(root, 'run/officine-postgresql'), '-p', String(ports.pg), '-d', 'postgres', '-c', 'SELECT pg_switch_wal()']);
  t.equal(psql.code, 0, 'segment switched', { stderr: psql.stderr });
  let spooled: string[] = [];
  for (let i = 0; i < 50 && spooled.length === 0; i++) {
    const stats = await query<{ last_archived_wal: string | null }>(`SELECT last_archived_wal FROM pg_stat_archiver`);
    if (stats[0]?.last_archived_wal) spooled = [stats[0].last_archived_wal];
    else await new Promise((res) => setTimeout(res, 200));
  }
  t.equal(spooled.length, 1, 'PostgreSQL archived a segment through the spool script', { stats: await query(`SELECT * FROM pg_stat_archiver`) });
});

t.test('a second run changes nothing', async (t) => {
  const before = snapshot();
  const appPid = readFileSync(join(root, 'run/officine/app.pid'), 'utf8');
  const second = sh('bash', [INSTALL_SH, ...args]);
  t.equal(second.code, 0, `second run succeeds${second.code ? `: ${second.stderr.slice(-2000)}` : ''}`);
  t.match(second.stdout, /Modifications : 0/, 'reports no change');
  t.notMatch(second.stderr, /AGE-SECRET-KEY|Mot de passe|otpauth:/, 'no new backup key, no new admin, no new TOTP seed');
  t.same(snapshot(), before, 'files, modes, owners and links identical');
  t.equal(readFileSync(join(root, 'run/officine/app.pid'), 'utf8'), appPid, 'app not restarted');
});

t.test('testssl.sh: no TLS 1.0/1.1, no vulnerable finding, HSTS', async (t) => {
  const json = join(work, 'testssl.json');
  const r = sh('testssl', ['--quiet', '--color', '0', '--warnings', 'off', '--ip', '127.0.0.1', '--protocols', '--vulnerable', '--headers', '--jsonfile', json, `https://localhost:${ports.https}`], 240_000);
  t.ok(existsSync(json), `testssl ran (exit ${r.code})`);
  const findings = JSON.parse(readFileSync(json, 'utf8')) as { id: string; severity: string; finding: string }[];
  const byId = new Map(findings.map((f) => [f.id, f]));
  for (const p of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1']) t.match(byId.get(p)?.finding, /not offered/, `${p} not offered`);
  t.match(byId.get('TLS1_2')?.finding, /offered/, 'TLS 1.2 offered');
  t.match(byId.get('TLS1_3')?.finding, /offered/, 'TLS 1.3 offered');
  t.match(byId.get('HSTS_time')?.finding, /63072000 seconds/, 'HSTS two years');
  t.match(byId.get('HSTS_subdomains')?.finding, /includes subdomains/, 'HSTS includeSubDomains');
  for (const id of ['heartbleed', 'CCS', 'ticketbleed', 'ROBOT', 'CRIME_TLS', 'BREACH', 'POODLE_SSL', 'SWEET32', 'FREAK', 'DROWN', 'LOGJAM', 'BEAST', 'LUCKY13', 'RC4']) {
    t.ok(byId.has(id), `${id} checked`);
  }
  const bad = findings.filter((f) => ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].includes(f.severity) && !/^(cert_|intermediate_|chain_of_trust|OCSP|DNS_CAA|security_headers|banner)/.test(f.id));
  t.same(bad.map((f) => `${f.id}: ${f.severity} ${f.finding}`), [], 'no vulnerable finding (LOW or worse)');
});

/** The signed bundle of the next version built from the installed release, with test migrations (built once). */
let nextBundlePath: string | undefined;
async function nextBundle(): Promise<string> {
  if (nextBundlePath) return nextBundlePath;
  const name = 'next';
  const release = join(root, 'opt/officine/releases/0.1.0');
  const pkg = JSON.parse(readFileSync(join(release, 'package.json'), 'utf8')) as Record<string, unknown>;
  const index = readFileSync(join(release, 'dist/appliance/src/db/migrations/index.js'), 'utf8');
  const files = overlayRelease(listReleaseFiles(release), join(work, name), {
    'package.json': JSON.stringify({ ...pkg, version: '0.1.1' }, null, 2),
    'dist/appliance/src/db/migrations/upgrade-test.js': testMigrationsSource(),
    'dist/appliance/src/db/migrations/index.js': `${index}\nimport { testMigrations } from './upgrade-test.js';\nmigrations.push(...testMigrations);\n`,
  });
  const out = join(work, `${name}.tar.gz`);
  await buildBundle({ files, version: '0.1.1', minFromVersion: '0.1.0', expiresAt: new Date(Date.now() + 86400_000), signingKeyPem: releaseKey.privatePem, out, gzipLevel: 1 });
  nextBundlePath = out;
  return out;
}
const upgradeCli = (...a: string[]) =>
  sh('node', [join(root, 'opt/officine/current/dist/appliance/src/cli/main.js'), '--env-file', join(root, 'etc/officine/appliance.env'), 'upgrade', ...a]);

t.test('a bundle whose migration fails is rolled back by itself: data intact, previous version serving', async (t) => {
  await query(`INSERT INTO groupements (name) VALUES ('Groupement témoin'), ('${FAIL_MARKER}') ON CONFLICT DO NOTHING`);
  const before = await query<{ name: string }>('SELECT name FROM groupements ORDER BY name');
  const migrationsBefore = await query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
  const bundle = await nextBundle();
  const verify = upgradeCli('verify', bundle);
  t.equal(verify.code, 0, `the bundle itself is valid${verify.code ? `: ${verify.stderr}` : ''}`);
  const r = upgradeCli('apply', bundle);
  t.equal(r.code, 1, 'apply fails');
  t.match(r.stderr, /Mise à jour annulée à l’étape « migrate » : la version 0\.1\.0 et sa base de données ont été restaurées/, 'operator told it was rolled back');
  t.equal(readlinkSync(join(root, 'opt/officine/current')), 'releases/0.1.0', 'current points back to 0.1.0');
  t.notOk(existsSync(join(root, 'opt/officine/releases/0.1.1')), 'failed release removed');
  t.same(await query('SELECT name FROM groupements ORDER BY name'), before, 'data intact (the first migration’s update undone)');
  t.same(await query('SELECT name FROM schema_migrations ORDER BY name'), migrationsBefore, 'schema history intact');
  t.same(await query(`SELECT to_regclass('public.upgrade_probe') AS t`), [{ t: null }], 'table created by the failed upgrade gone');
  t.equal((await readyThroughCaddy(90_000)).status, 200, 'previous version serving through Caddy');
  const journal = readFileSync(join(root, 'var/lib/officine/upgrades/journal.jsonl'), 'utf8');
  for (const step of ['upgrade.started', 'upgrade.verified', 'upgrade.backup', 'upgrade.stopped', 'upgrade.snapshot', 'upgrade.failed', 'upgrade.rollback.database_restored', 'upgrade.rolled_back']) {
    t.match(journal, `"action":"${step}"`, `journal: ${step}`);
  }
  const audited = (await query<{ action: string }>(`SELECT action FROM audit_log WHERE action LIKE 'upgrade.%' ORDER BY id`)).map((r) => r.action);
  // the restore wipes what was written after the snapshot; the rollback records the failure again
  t.same(audited.slice(-3), ['upgrade.stopped', 'upgrade.rollback.database_restored', 'upgrade.rolled_back'], 'failure and rollback in the audit log, on the restored chain');
  t.ok(audited.includes('upgrade.started') && audited.includes('upgrade.verified'), 'steps before the snapshot kept in the audit log');
  const restored = await query<{ details: { failedStep: string } }>(`SELECT details FROM audit_log WHERE action = 'upgrade.rollback.database_restored' ORDER BY id DESC LIMIT 1`);
  t.equal(restored[0]?.details.failedStep, 'migrate', 'the failed step is audited');
  const verifyChain = sh('node', [join(root, 'opt/officine/current/dist/appliance/src/cli/main.js'), '--env-file', join(root, 'etc/officine/appliance.env'), 'audit', 'verify']);
  t.equal(verifyChain.code, 0, `audit hash chain intact after the restore${verifyChain.code ? `: ${verifyChain.stdout}${verifyChain.stderr}` : ''}`);
});

t.test('a good bundle upgrades: migrated, switched, healthy', async (t) => {
  await query(`DELETE FROM groupements WHERE name = '${FAIL_MARKER}'`);
  const bundle = await nextBundle();
  // As from the admin page: the web process stages the bundle and writes the request;
  // the root path unit's command takes it (systemd itself does not run here).
  const dataDir = join(root, 'var/lib/officine');
  mkdirSync(incomingDir(dataDir), { recursive: true, mode: 0o700 });
  const staged = join(incomingDir(dataDir), `${'e'.repeat(24)}.bundle`);
  copyFileSync(bundle, staged);
  writeApplyRequest(dataDir, { bundle: staged, requestedBy: null, requestedAt: new Date().toISOString() });
  const r = upgradeCli('apply-requested');
  t.equal(r.code, 0, `apply succeeds${r.code ? `: ${r.stderr.slice(-2000)}` : ''}`);
  t.notOk(existsSync(applyRequestFile(dataDir)), 'the request was consumed');
  t.match(r.stdout, /version 0\.1\.1 en service/);
  t.equal(readlinkSync(join(root, 'opt/officine/current')), 'releases/0.1.1', 'current -> 0.1.1');
  t.same(await query(`SELECT to_regclass('public.upgrade_probe')::text AS t`), [{ t: 'upgrade_probe' }], 'new migration applied');
  t.equal((await readyThroughCaddy(90_000)).status, 200, 'new version serving through Caddy');
  const again = upgradeCli('verify', bundle);
  t.equal(again.code, 1, 'the same bundle is now refused');
  t.match(again.stderr, /pas plus récente/, 'as not newer');
});
