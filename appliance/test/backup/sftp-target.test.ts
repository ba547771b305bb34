// The NAS over SFTP against a real OpenSSH sshd (Debian openssh-server) started on a
// loopback port with its own host keys and one authorized client key.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BackupAlert } from '../../src/backup/backup-alerts.js';
import { layout } from '../../src/backup/backup-manifest.js';
import { backupTools } from '../../src/backup/backup-settings.js';
import { restoreBackup, RestoreService } from '../../src/backup/restore.service.js';
import { trustedManifestSigners } from '../../src/backup/signing-key.js';
import { SftpTarget } from '../../src/backup/targets/sftp.target.js';
import { openTarget } from '../../src/backup/targets/target-factory.js';
import { createLogger } from '../../src/logging/logger.js';
import { tempDir } from '../helpers/app.js';
import { createTestDatabase, testPgEnv } from '../helpers/db.js';
import { backupFixture, fingerprint, keygen, startSshd } from './helpers.js';

t.test('NAS over SFTP: pinned host key, verified upload, restore; another host key is refused', async (t) => {
  const dir = tempDir(t, 'officine-sshd-');
  const fpA = keygen(join(dir, 'host_a'));
  const fpB = keygen(join(dir, 'host_b'));
  keygen(join(dir, 'client'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client.pub')));
  const { port: portA } = await startSshd(t, dir, join(dir, 'host_a'), join(dir, 'authorized_keys'));
  const { port: portB } = await startSshd(t, dir, join(dir, 'host_b'), join(dir, 'authorized_keys'));
  const user = execFileSync('id', ['-un']).toString().trim();
  const nasRoot = join(dir, 'nas');

  const f = await backupFixture(t, {
    rows: 3000,
    extraEnv: { NAS_MODE: 'sftp', NAS_SFTP_HOST: '127.0.0.1', NAS_SFTP_PORT: String(portA), NAS_SFTP_USER: user, NAS_SFTP_HOST_KEY: fpA, NAS_SFTP_PATH: nasRoot, NAS_SFTP_KEY_FILE: join(dir, 'client') },
  });
  execFileSync('chmod', ['600', join(dir, 'client')]);
  const nas = await openTarget(f.config, 'nas');
  t.teardown(() => nas.close());
  t.ok(nas instanceof SftpTarget, 'NAS_MODE=sftp gives the SFTP target');
  const before = await fingerprint(f.db.url);
  const r = await f.service([nas]).run();
  t.equal(r.status, 'verified', 'uploaded and verified over SFTP');
  t.ok(existsSync(join(nasRoot, layout.artifact(r.id, layout.dumpName))), 'file landed in the sshd user’s NAS folder');
  t.same(readdirSync(join(nasRoot, 'backups', r.id)).sort(), ['dump.pgc.zst.age', 'manifest.json'], 'no .partial left behind');

  const target = await createTestDatabase(t, { empty: true });
  const svc = new RestoreService(backupTools(f.config), createLogger('silent'), trustedManifestSigners(undefined, f.secrets));
  await restoreBackup(svc, nas, f.vault.identity, { workDir: tempDir(t), adminUrl: testPgEnv().adminUrl, database: target.name, targetUrl: target.url });
  t.same(await fingerprint(target.url), before, 'restored over SFTP identical');

  // Same key pinned, but the server on portB presents host key B: refused, nothing sent.
  const impostor = new SftpTarget({ host: '127.0.0.1', port: portB, username: user, privateKey: readFileSync(join(dir, 'client')), hostKeyFingerprint: fpA, root: join(dir, 'impostor') });
  t.teardown(() => impostor.close());
  await t.rejects(impostor.list('backups'), { code: 'sftp_host_key_mismatch' }, 'different host key refused');
  t.notOk(fpA === fpB, 'the two host keys differ');
  const before2 = f.log.lines.length;
  const r2 = await f.service([impostor]).run();
  t.equal(r2.status, 'failed', 'backup to the impostor fails');
  t.ok(f.log.lines.slice(before2).some((l) => l.alert === BackupAlert.uploadFailed && l.level === 'error'), 'upload failure alerted (error log with code)');
  t.notOk(existsSync(join(dir, 'impostor')), 'nothing written on the impostor');
});
