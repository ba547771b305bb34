import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import t from 'tap';
import { BackupAlert } from '../../src/backup/backup-alerts.js';
import { DirectoryStore } from '../../src/backup/targets/directory-store.js';
import { configuredTargets } from '../../src/backup/targets/target-factory.js';
import { backupFixture, testConfig } from './helpers.js';

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
