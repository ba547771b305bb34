// The S3 target against s3rver, a local server speaking the S3 protocol. What s3rver
// does NOT check, so this test cannot prove either: bucket-default encryption and
// versioning (s3rver has neither: the target must report them as off/unknown, which
// is asserted), server-side validation of the x-amz-checksum-* part checksums, the
// Scaleway 1000-part limit, and real TLS/endpoint behaviour. Size + sha256 read-back
// verification, multipart upload, listing, retention deletes and restore are real.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import S3rver from 's3rver';
import t from 'tap';
import { layout } from '../../src/backup/backup-manifest.js';
import { backupTools } from '../../src/backup/backup-settings.js';
import { restoreBackup, RestoreService } from '../../src/backup/restore.service.js';
import { trustedManifestSigners } from '../../src/backup/signing-key.js';
import { MAX_PARTS, partSizeFor } from '../../src/backup/targets/s3.target.js';
import { openTarget } from '../../src/backup/targets/target-factory.js';
import { createLogger } from '../../src/logging/logger.js';
import { tempDir } from '../helpers/app.js';
import { createTestDatabase, testPgEnv } from '../helpers/db.js';
import { backupFixture, fingerprint } from './helpers.js';

t.test('part size keeps every upload within the part limit', async (t) => {
  for (const size of [0, 1e6, 5e9, 60e9, 600e9]) {
    const p = partSizeFor(size);
    t.ok(p >= 5 * 1024 * 1024 && p * MAX_PARTS >= size, `${size} bytes → parts of ${p}`);
  }
});

t.test('S3 target: multipart upload, read-back verification, restore, retention', async (t) => {
  const dir = tempDir(t, 'officine-s3rver-');
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'officine-backups', configs: [] }] });
  const { port } = (await server.run()) as unknown as { port: number };
  t.teardown(() => server.close());
  const events: { Records?: { eventName: string; s3: { object: { key: string } } }[] }[] = [];
  server.on('event', (e: (typeof events)[number]) => events.push(e));

  const f = await backupFixture(t, {
    rows: 20000,
    extraEnv: {
      BACKUP_TARGETS: 's3',
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_REGION: 'us-east-1',
      S3_BUCKET: 'officine-backups',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
    },
  });
  writeFileSync(join(f.config.secretsDir, 's3-secret-access-key'), 'S3RVER\n', { mode: 0o600 });
  const s3 = await openTarget(f.config, 's3');
  t.teardown(() => s3.close());

  const report = await s3.check();
  t.ok(report.ok, 'bucket reachable');
  t.not(report.details.versioning, 'Enabled', 'versioning reported (s3rver has none)');
  t.ok(report.warnings.includes('bucket_versioning_off') || report.warnings.includes('bucket_versioning_unknown'), 'missing versioning is a warning');
  t.ok(report.warnings.some((w) => w.startsWith('bucket_encryption')), 'missing default encryption is a warning');

  // ~12 MB of incompressible-ish data so the sealed dump needs a multipart upload (parts of 5 MiB).
  await f.db.ds.query(`CREATE TABLE bk_blob AS SELECT i, md5(random()::text) || md5(random()::text) AS h FROM generate_series(1, 200000) i`);
  const before = await fingerprint(f.db.url);
  const r = await f.service([s3]).run();
  t.equal(r.status, 'verified', 'verified on S3 after read-back');
  t.ok(await s3.stat(layout.manifest(r.id)), 'manifest uploaded');
  t.same((await s3.list(layout.backupsDir)), [r.id], 'listed');
  t.ok(r.manifest!.artifacts[0]!.size > 5 * 1024 * 1024, 'sealed dump larger than one part');
  const dumpKey = `officine/${layout.artifact(r.id, layout.dumpName)}`;
  t.ok(
    events.some((e) => e.Records?.[0]?.eventName === 'ObjectCreated:Post' && e.Records[0].s3.object.key === dumpKey),
    'stored through CompleteMultipartUpload (s3rver reports it as ObjectCreated:Post)',
  );
  const w = f.log.lines.filter((l) => l.msg === 'backup target setting');
  t.ok(w.length >= 2, 'weak bucket settings logged as warnings');

  const target = await createTestDatabase(t, { empty: true });
  const svc = new RestoreService(backupTools(f.config), createLogger('silent'), trustedManifestSigners(undefined, f.secrets));
  await restoreBackup(svc, s3, f.drill.identity, { workDir: tempDir(t), adminUrl: testPgEnv().adminUrl, database: target.name, targetUrl: target.url });
  t.same(await fingerprint(target.url), before, 'restored from S3 identical');

  // Retention deletes through the S3 API: an old unverified leftover goes, the verified backup stays.
  await s3.putBuffer('backups/20200101T000000Z/dump.pgc.zst.age', Buffer.from('leftover'));
  const ret = await f.service([s3]).applyRetention(s3);
  t.same(ret.removed, ['20200101T000000Z'], 'old unverified backup removed');
  t.same(await s3.list(layout.backupsDir), [r.id]);
});
