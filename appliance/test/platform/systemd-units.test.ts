import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/config/version.js';
import { tempDir } from '../helpers/app.js';
import { applyRequestFile } from '../../src/upgrade/apply-request.js';

const UNITS_DIR = join(projectRoot(), 'systemd');

/** The exposure score systemd-analyze gives a unit file, read offline (no running systemd needed). */
function exposure(path: string): { score: number; output: string } {
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', path], { encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`;
  const m = output.match(/Overall exposure level for \S+: (\d+(?:\.\d+)?)/);
  if (!m) throw new Error(`no exposure score in systemd-analyze output:\n${output}`);
  return { score: Number(m[1]), output };
}

t.test('every unit scores ≤ 1.5 with systemd-analyze security --offline=yes', async (t) => {
  const units = readdirSync(UNITS_DIR).filter((f) => f.endsWith('.service'));
  t.same(
    ['officine-agent.service', 'officine-appliance.service', 'officine-scheduler.service'].filter((u) => !units.includes(u)),
    [],
    'app, scheduler and agent units exist',
  );
  // officine-upgrade.service is the one root unit (a short oneshot that swaps releases and
  // restarts the others): tested apart below.
  for (const unit of units.filter((u) => u !== 'officine-upgrade.service')) {
    const { score, output } = exposure(join(UNITS_DIR, unit));
    t.ok(score <= 1.5, `${unit}: exposure ${score} ≤ 1.5${score <= 1.5 ? '' : `\n${output}`}`);
    const text = readFileSync(join(UNITS_DIR, unit), 'utf8');
    t.match(text, /^User=(?!root)\S+/m, `${unit}: runs as a dedicated user`);
    t.match(text, /^CapabilityBoundingSet=$/m, `${unit}: no capabilities`);
  }
});

t.test('every unit that starts Node does it through the release launcher (the Node the bundle ships)', async (t) => {
  for (const unit of ['officine-agent.service', 'officine-appliance.service', 'officine-scheduler.service', 'officine-upgrade.service']) {
    const text = readFileSync(join(UNITS_DIR, unit), 'utf8');
    t.match(text, /^ExecStart=\/opt\/officine\/current\/provisioning\/officine-node \/opt\/officine\/current\/dist\/\S+\/main\.js /m, `${unit}: ExecStart through officine-node`);
    t.notMatch(text, /\/usr\/bin\/node/, `${unit}: never the host's /usr/bin/node`);
  }
});

t.test('the scoring is real: a bare unit scores badly', async (t) => {
  const dir = tempDir(t, 'officine-units-');
  const bare = join(dir, 'bare.service');
  writeFileSync(bare, '[Service]\nExecStart=/usr/bin/node /opt/officine/current/dist/appliance/src/cli/main.js serve\n');
  t.ok(exposure(bare).score > 5, 'an unhardened unit scores above 5');
});

t.test('upgrades requested from the admin page: a path unit on the request file starts a root oneshot', async (t) => {
  const path = readFileSync(join(UNITS_DIR, 'officine-upgrade.path'), 'utf8');
  t.match(path, new RegExp(`^PathExists=${applyRequestFile('/var/lib/officine').replace(/[.]/g, '\\.')}$`, 'm'), 'watches the file the web process writes');
  t.match(path, /^Unit=officine-upgrade\.service$/m);
  t.match(path, /^WantedBy=multi-user\.target$/m, 'enabled at boot');
  const svc = readFileSync(join(UNITS_DIR, 'officine-upgrade.service'), 'utf8');
  t.match(svc, /^Type=oneshot$/m, 'a oneshot, not a daemon');
  t.match(svc, /^ExecStart=\S+ \S+main\.js upgrade apply-requested$/m, 'runs the command that takes the request');
  t.match(svc, /^NoNewPrivileges=yes$/m);
  const install = readFileSync(join(projectRoot(), 'provisioning/install.sh'), 'utf8');
  t.match(install, /officine-upgrade\.path/, 'install.sh installs and enables the path unit');
});

t.test('PostgreSQL runs no Node and reaches no network: its archive_command only spools (provisioning/officine-wal-spool)', async (t) => {
  const pg = readFileSync(join(UNITS_DIR, 'officine-postgresql.service'), 'utf8');
  t.match(pg, /^MemoryDenyWriteExecute=yes$/m, 'no writable+executable memory');
  t.match(pg, /^IPAddressDeny=any$/m, 'every address denied…');
  t.match(pg, /^IPAddressAllow=localhost$/m, '…but loopback (its clients)');
  t.match(pg, /^ReadWritePaths=.*\s\/var\/lib\/officine-wal-spool(\s|$)/m, 'writes the WAL spool');
  const { score, output } = exposure(join(UNITS_DIR, 'officine-postgresql.service'));
  t.ok(score <= 1.1, `exposure ${score} ≤ 1.1 (1.3 before the spool)${score <= 1.1 ? '' : `\n${output}`}`);
  t.match(output, /✓ MemoryDenyWriteExecute=/, 'systemd-analyze counts MemoryDenyWriteExecute');
  t.match(output, /IPAddressDeny=\s+Service defines IP address allow list with only localhost entries/, 'systemd-analyze sees the loopback-only allow-list');
  const sched = readFileSync(join(UNITS_DIR, 'officine-scheduler.service'), 'utf8');
  t.match(sched, /^ReadWritePaths=.*\s\/var\/lib\/officine-wal-spool(\s|$)/m, 'the scheduler (the shipper) reads and deletes spooled segments');
  t.ok(exposure(join(UNITS_DIR, 'officine-scheduler.service')).score <= 1.1, 'scheduler exposure unchanged (1.1)');
});
