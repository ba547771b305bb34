import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import t from 'tap';
import { layout } from '../../src/backup/backup-manifest.js';
import { BackupAlert } from '../../src/backup/backup-alerts.js';
import { DirectoryStore } from '../../src/backup/targets/directory-store.js';
import { configuredTargets, openTarget } from '../../src/backup/targets/target-factory.js';
import { tempDir } from '../helpers/app.js';
import { backupFixture, keygen, startSshd, testConfig } from './helpers.js';

/** Files under `dir` (to `depth` levels) modified since `since` whose name or first bytes look like a dump or ciphertext. */
function dumpLikeFiles(dir: string, since: number, depth = 4): string[] {
  const out: string[] = [];
  const head = (p: string) => {
    const fd = openSync(p, 'r');
    try {
      const b = Buffer.alloc(22);
      return b.subarray(0, readSync(fd, b, 0, 22, 0)).toString('latin1');
    } finally {
      closeSync(fd);
    }
  };
  const walk = (d: string, level: number) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return; // another user's private directory, or gone
    }
    for (const n of names) {
      const p = join(d, n);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (level < depth) walk(p, level + 1);
      } else if (st.isFile() && st.mtimeMs >= since) {
        const h = st.size > 0 ? head(p) : '';
        if (/\.(age|zst|pgc|partial)$|dump|manifest/.test(n) || h.startsWith('age-encryption.org') || h.startsWith('PGDMP') || h.startsWith('\x28\xb5\x2f\xfd')) out.push(p);
      }
    }
  };
  walk(dir, 1);
  return out;
}

t.test('NAS down (mount point not mounted): failure alerted, nothing written to the local disk', async (t) => {
  const f = await backupFixture(t, { rows: 500 });
  // The NAS mount disappears: the directory is still there, but it is now the local disk.
  execFileSync('umount', [f.nasDir]);
  t.teardown(() => execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', f.nasDir])); // helper's teardown unmounts again
  const report = await f.nas.check();
  t.notOk(report.ok, 'target check fails');
  t.match(String(report.details.error), /point de montage/, 'explains it is not a mount point');

  const r = await f.service().run();
  t.equal(r.status, 'failed', 'backup failed');
  t.same(readdirSync(f.nasDir), [], 'nothing written under the (unmounted) NAS path');
  const alerts = f.log.lines.filter((l) => l.level === 'error' && l.alert === BackupAlert.uploadFailed);
  t.ok(alerts.length >= 1, 'upload failure raised as an error-level alert with its stable code');
  const rec = await f.db.ds.query(`SELECT status FROM backup_records WHERE id = $1`, [r.id]);
  t.equal(rec[0].status, 'failed', 'recorded as failed');

  await t.rejects(new DirectoryStore('nas', f.nasDir, { requireMount: true }).put('x', (await import('node:stream')).Readable.from([Buffer.from('x')])), { code: 'target_not_mounted' }, 'direct writes refused too');
  t.same(readdirSync(f.nasDir), [], 'still nothing local');
});

t.test('no target configured: refused, never a local fallback', async (t) => {
  const config = testConfig(t, { BACKUP_TARGETS: '' });
  t.throws(() => configuredTargets(config), { code: 'backup_no_target' });
});

t.test('NAS down in SFTP mode (sshd stopped): failure alerted, nothing written locally, S3 still served', async (t) => {
  const dir = tempDir(t, 'officine-sshd-');
  const fp = keygen(join(dir, 'host'));
  keygen(join(dir, 'client'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client.pub')));
  const sshd = await startSshd(t, dir, join(dir, 'host'), join(dir, 'authorized_keys'));
  const s3dir = tempDir(t, 'officine-s3rver-');
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3dir, configureBuckets: [{ name: 'officine-backups', configs: [] }] });
  const { port: s3port } = (await server.run()) as unknown as { port: number };
  t.teardown(() => server.close());
  const user = execFileSync('id', ['-un']).toString().trim();
  const nasRoot = join(dir, 'nas');
  const f = await backupFixture(t, {
    rows: 500,
    extraEnv: {
      BACKUP_TARGETS: 'nas,s3',
      NAS_MODE: 'sftp', NAS_SFTP_HOST: '127.0.0.1', NAS_SFTP_PORT: String(sshd.port), NAS_SFTP_USER: user, NAS_SFTP_HOST_KEY: fp, NAS_SFTP_PATH: nasRoot, NAS_SFTP_KEY_FILE: join(dir, 'client'),
      S3_ENDPOINT: `http://127.0.0.1:${s3port}`, S3_REGION: 'us-east-1', S3_BUCKET: 'officine-backups', S3_ACCESS_KEY_ID: 'S3RVER', S3_FORCE_PATH_STYLE: 'true',
    },
  });
  execFileSync('chmod', ['600', join(dir, 'client')]);
  writeFileSync(join(f.config.secretsDir, 's3-secret-access-key'), 'S3RVER\n', { mode: 0o600 });

  // The NAS is reachable when the appliance opens it, then goes away.
  const nas = await openTarget(f.config, 'nas');
  t.teardown(() => nas.close());
  t.ok((await nas.check()).ok, 'NAS reachable before the outage');
  await sshd.stop();
  const since = Date.now() - 1000;
  // A private temp dir for the runs (this process and pg_dump, zstd, age it starts): the
  // shared one also holds other test files running in parallel.
  const tmp = tempDir(t, 'officine-tmp-');
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  t.teardown(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });
  t.equal(tmpdir(), tmp, 'temp files would go to the private temp dir');

  const before = f.log.lines.length;
  const alone = await f.service([nas]).run();
  t.equal(alone.status, 'failed', 'NAS the only target: the backup fails');
  const alerts = f.log.lines.slice(before).filter((l) => l.level === 'error' && l.alert === BackupAlert.uploadFailed);
  t.ok(alerts.length >= 1, 'upload failure raised as an error-level alert with its stable code');
  t.same((await f.db.ds.query(`SELECT status FROM backup_records WHERE id = $1`, [alone.id]))[0], { status: 'failed' }, 'recorded as failed');

  // A fresh connection attempt (next run, or the scheduler's) is refused too.
  await t.rejects(openTarget(f.config, 'nas').then((n) => n.list('backups').finally(() => n.close())), 'NAS unreachable');

  // With S3 configured as well, S3 gets the backup, verified; the NAS failure is alerted.
  await new Promise((r) => setTimeout(r, 1100)); // backup ids are per second
  const s3 = await openTarget(f.config, 's3');
  t.teardown(() => s3.close());
  const before2 = f.log.lines.length;
  const both = await f.service([nas, s3]).run();
  t.equal(both.status, 'partial', 'NAS down, S3 up: partial backup');
  t.ok(both.targets.some((x) => x.target === 's3' && x.verified), 'verified on S3');
  t.ok(both.targets.some((x) => x.target === 'nas' && !x.verified), 'not on the NAS');
  t.ok(await s3.stat(layout.manifest(both.id)), 'manifest published on S3');
  t.ok(f.log.lines.slice(before2).some((l) => l.level === 'error' && l.alert === BackupAlert.uploadFailed && JSON.stringify(l).includes('nas')), 'NAS failure alerted');

  t.notOk(existsSync(join(nasRoot, layout.backupDir(alone.id))) || existsSync(join(nasRoot, layout.backupDir(both.id))), 'nothing reached the NAS folder');
  t.same(dumpLikeFiles(f.config.dataDir, since), [], 'no dump or ciphertext under the data dir');
  t.same(readdirSync(tmp), [], 'nothing at all in the temp dir');
});
