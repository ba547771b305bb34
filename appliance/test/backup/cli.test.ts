import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { projectRoot } from '../../src/config/version.js';
import { runCli } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/db.js';
import { backupFixture, fingerprint } from './helpers.js';

const cli = join(projectRoot(), 'dist/appliance/src/cli/main.js');

t.test('console: backup run --json, backup list, restore --target-url, backup status', async (t) => {
  const f = await backupFixture(t, { rows: 1000 });
  const env = {
    ...process.env,
    OFFICINE_ENV_FILE: '/dev/null',
    DATABASE_URL: f.db.url,
    SECRETS_DIR: f.config.secretsDir,
    DATA_DIR: f.config.dataDir,
    LOG_LEVEL: 'silent',
    BACKUP_RECIPIENTS: f.config.BACKUP_RECIPIENTS.join(','),
    BACKUP_TARGETS: 'nas',
    NAS_MODE: 'mount',
    NAS_MOUNT_PATH: f.nasDir,
  };
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });

  const before = await fingerprint(f.db.url);
  const b = run('backup', 'run', '--json');
  t.equal(b.status, 0, 'backup run exits 0');
  const summary = JSON.parse(b.stdout) as { id: string; status: string };
  t.equal(summary.status, 'verified');
  t.match(run('backup', 'list').stdout, new RegExp(`nas : 1 sauvegarde\\(s\\)\\n  ${summary.id}`), 'listed in French');

  const target = await createTestDatabase(t, { empty: true });
  const r = run('restore', '--identity', f.drill.identity, '--from', 'nas', '--target-url', target.url);
  t.equal(r.status, 0, 'restore exits 0');
  t.match(r.stdout, new RegExp(`Restauration de ${summary.id} vérifiée`), 'French confirmation');
  t.same(await fingerprint(target.url), before, 'restored through the console');

  const again = run('restore', '--identity', f.drill.identity, '--from', 'nas', '--target-url', target.url);
  t.equal(again.status, 1, 'a non-empty target is refused');
  t.match(again.stderr, /restauration refusée/);

  const s = run('backup', 'status');
  t.equal(s.status, 3, 'status exits 3 while an alert is due (no drill yet)', { got: s.status });
  t.match(s.stdout, new RegExp(`Dernière sauvegarde vérifiée : ${summary.id}`));
  t.match(s.stdout, /ALERTE backup\.no_successful_drill_35d/);
});

t.test('console: --help of backup, backup run, backup key, restore and drill documents their options; a missing required option is refused', async (t) => {
  const documented: [string[], string[]][] = [
    [['backup'], ['run', 'list', 'status', 'key']],
    [['backup', 'run'], ['--json']],
    [['backup', 'key'], ['--drill']],
    [['restore'], ['--identity <keyfile>', '--from <source>', '--backup <id>', '--until <time>', '--target-url <url>', '--workdir <dir>']],
    [['drill'], ['--identity <keyfile>', '--from <source>', '--backup <id>', '--json', '--workdir <dir>']],
  ];
  for (const [cmd, words] of documented) {
    const r = await runCli([...cmd, '--help'], {});
    t.equal(r.code, 0, `${cmd.join(' ')} --help exits 0`);
    t.match(r.stdout, new RegExp(`^Usage: appliance ${cmd.join(' ')} `), 'usage line');
    for (const w of words) t.match(r.stdout, new RegExp(`\\n  ${w.replace(/[<>]/g, '.')}\\s`), `documents ${w}`);
  }
  for (const cmd of ['restore', 'drill']) {
    const r = await runCli([cmd, '--from', 'nas'], {});
    t.equal(r.code, 1, `${cmd} without --identity exits 1`);
    t.match(r.stderr, /required option '--identity <keyfile>' not specified/);
  }
});
