// The production PostgreSQL configuration install.sh writes for WAL archiving, as its
// --dry-run prints it (fast: nothing installed), and the bound on archive_timeout.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/config/version.js';
import { tempDir } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/caddy.js';

t.test('install.sh renders archive_mode, archive_command and archive_timeout ≤ 300 s into the cluster config', async (t) => {
  const root = join(tempDir(t, 'officine-dry-'), 'root');
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  const r = spawnSync(
    'env',
    ['-u', 'NODE_OPTIONS', 'bash', join(projectRoot(), 'provisioning/install.sh'), '--dry-run', '--root', root, '--site', 'localhost',
      '--http-port', String(ports[0]), '--https-port', String(ports[1]), '--app-port', String(ports[2]), '--pg-port', String(ports[3])],
    { encoding: 'utf8', timeout: 120_000 },
  );
  t.equal(r.status, 0, `dry run succeeds${r.status ? `: ${r.stderr}` : ''}`);
  const block = r.stdout.split(/\[dry-run\] .*officine\.conf \(inclus par postgresql\.conf\) :\n/)[1] ?? '';
  const conf = Object.fromEntries([...block.matchAll(/^ {4}(\w+) = '((?:[^']|'')*)'$/gm)].map((m) => [m[1], m[2]]));
  t.equal(conf.archive_mode, 'on', 'archive_mode on');
  t.equal(conf.wal_level, 'replica', 'wal_level replica');
  const timeout = Number(conf.archive_timeout);
  t.ok(timeout > 0 && timeout <= 300, `archive_timeout ${conf.archive_timeout} s ≤ 300 s (RPO ≤ 5 min)`);
  t.equal(conf.archive_command, `${root}/opt/officine/current/provisioning/officine-wal-spool %p %f ${root}/var/lib/officine-wal-spool`, 'archive_command: the current release’s spool script, into the spool (no Node, no network, no env file)');
  t.equal(conf.jit, 'off', 'jit off: the unit denies writable+executable memory');
  t.match(r.stdout, new RegExp(`\\[dry-run\\] répertoire ${root}/var/lib/officine-wal-spool \\(2770 `), 'the spool directory, setgid 2770');
  t.notMatch(r.stdout, /officine-wal\//, 'no separate env file for the archive_command any more');
  t.match(r.stdout, new RegExp(`\\[dry-run\\] écrire ${root}/var/lib/officine-postgresql/officine\\.conf \\(0600`), 'written into the cluster directory');
  t.same(readdirSync(join(root, '..')), [], 'dry run wrote nothing');
});

t.test('archive_timeout is a config value bounded by the RPO', async (t) => {
  const ok = await runCli(['wal', 'postgres-conf', '--spool-dir', '/var/lib/officine-wal-spool'], { BACKUP_WAL_ARCHIVE_TIMEOUT: '60' });
  t.equal(ok.code, 0);
  t.match(ok.stdout, /^archive_timeout = '60'$/m, 'taken from BACKUP_WAL_ARCHIVE_TIMEOUT');
  t.match(ok.stdout, /^archive_command = '\S+\/provisioning\/officine-wal-spool %p %f \/var\/lib\/officine-wal-spool'$/m, 'the spool script of the release the console belongs to');
  const tooLong = await runCli(['wal', 'postgres-conf', '--spool-dir', '/var/lib/officine-wal-spool'], { BACKUP_WAL_ARCHIVE_TIMEOUT: '301' });
  t.equal(tooLong.code, 2, 'more than 300 s is refused (RPO ≤ 5 min)');
  t.match(tooLong.stderr, /BACKUP_WAL_ARCHIVE_TIMEOUT/);
});
