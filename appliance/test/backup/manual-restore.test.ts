import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { layout } from '../../src/backup/backup-manifest.js';
import { projectRoot } from '../../src/config/version.js';
import { testDbUrl, testPgEnv } from '../helpers/db.js';
import { backupFixture, fingerprint } from './helpers.js';

/** The by-hand procedure exactly as INSTALL.md prints it, between its markers. */
function manualRestoreScript(): string {
  const md = readFileSync(join(projectRoot(), 'INSTALL.md'), 'utf8');
  const m = /<!-- manual-restore:begin -->\n```bash\n([\s\S]*?)```\n<!-- manual-restore:end -->/.exec(md);
  if (!m) throw new Error('manual restore block not found in INSTALL.md');
  return m[1]!;
}

t.test('INSTALL.md by-hand restore (age -d | zstd -d | pg_restore, Debian CLIs) reproduces the database', async (t) => {
  const script = manualRestoreScript();
  t.match(script, /age -d -i "\$CLE"/, 'uses the age CLI');
  t.match(script, /\| zstd -d \| pg_restore/, 'pipes through zstd and pg_restore');

  const f = await backupFixture(t, { rows: 3000 });
  const before = await fingerprint(f.db.url);
  const r = await f.service().run();
  t.equal(r.status, 'verified');

  const admin = new URL(testPgEnv().adminUrl);
  const env = {
    PATH: '/usr/bin:/bin',
    SAUVEGARDE: join(f.nasDir, layout.backupDir(r.id)),
    CLE: f.vault.identity,
    PGHOST: admin.hostname,
    PGPORT: admin.port,
    PGUSER: decodeURIComponent(admin.username),
    PGPASSWORD: decodeURIComponent(admin.password),
  };
  t.teardown(() => {
    execFileSync('dropdb', ['--if-exists', '--force', 'officine_restauree'], { env });
  });
  const out = execFileSync('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', script], { env, cwd: f.keysDir }).toString();
  t.match(out, /OK/, 'sha256sum -c confirmed the copy');
  t.match(out, /\n\s+20\n/, 'psql shows the 20 pharmacies');
  t.same(await fingerprint(testDbUrl('officine_restauree')), before, 'by-hand restore identical to the source');

  // The same procedure refuses a damaged copy at step 1, before creating anything.
  const bad = { ...env, SAUVEGARDE: join(f.keysDir, 'bad') };
  execFileSync('cp', ['-r', env.SAUVEGARDE, bad.SAUVEGARDE]);
  execFileSync('bash', ['-c', `printf 'x' | dd of="${bad.SAUVEGARDE}/dump.pgc.zst.age" bs=1 seek=500 conv=notrunc 2>/dev/null`]);
  t.throws(() => execFileSync('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', script], { env: bad, stdio: 'pipe' }), 'checksum step stops a damaged copy');
});
