import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BackupAlert, type Alert } from '../../src/backup/backup-alerts.js';
import { layout } from '../../src/backup/backup-manifest.js';
import { backupTools } from '../../src/backup/backup-settings.js';
import { BackupStatusService } from '../../src/backup/backup-status.service.js';
import { DrillService, latestDrillReport } from '../../src/backup/drill.service.js';
import { RestoreService } from '../../src/backup/restore.service.js';
import { signDocument } from '../../src/backup/signed-document.js';
import { DRILL_SIGNING_KEY, SigningKey, trustedManifestSigners } from '../../src/backup/signing-key.js';
import { SecretStore } from '../../src/config/secrets.js';
import { APP_VERSION } from '../../src/config/version.js';
import { createLogger } from '../../src/logging/logger.js';
import { tempDir } from '../helpers/app.js';
import { backupFixture } from './helpers.js';

t.test('restore drill: passes on a good backup, catches wrong row counts and a dropped foreign key', async (t) => {
  const f = await backupFixture(t, { rows: 2000 });
  const drillKey = SigningKey.loadOrCreate(new SecretStore(tempDir(t)), DRILL_SIGNING_KEY);
  // the drill host pins the appliance's public key
  const restore = new RestoreService(backupTools(f.config), createLogger('silent'), trustedManifestSigners(SigningKey.loadOrCreate(f.secrets).publicId, new SecretStore(tempDir(t))));
  const drill = new DrillService(restore, drillKey, createLogger('silent'));
  const work = tempDir(t);
  const statusOf = async () => {
    const raised: Alert[] = [];
    const app = { config: { ...f.config, BACKUP_DRILL_PUBLIC_KEY: drillKey.publicId }, db: f.db.ds, logger: createLogger('silent'), secrets: f.secrets, clock: { now: () => new Date() }, version: APP_VERSION };
    const svc = new BackupStatusService(app, { targets: [f.nas], alerter: { raise: (a) => raised.push(a) } });
    const s = await svc.status();
    svc.raise(s.alerts);
    return { s, raised: raised.map((a) => a.code) };
  };

  await t.test('good backup', async (t) => {
    const b = await f.service().run();
    t.equal(b.status, 'verified');
    const report = await drill.run(f.nas, f.drill.identity, { workDir: work });
    t.ok(report.ok, 'drill passes', { report });
    t.equal(report.backupId, b.id, 'drilled the newest backup');
    t.equal(report.check?.tableCount.actual, report.check?.tableCount.expected, 'table count matches');
    t.same(report.check?.rowMismatches, [], 'row counts match');
    const published = await latestDrillReport(f.nas, [drillKey.publicId]);
    t.equal(published.report?.id, report.id, 'signed report published to the target and verified');
    const untrusted = await latestDrillReport(f.nas, [SigningKey.loadOrCreate(new SecretStore(tempDir(t))).publicId]);
    t.equal(untrusted.report, null, 'a report is not trusted under another key');
    const { s, raised } = await statusOf();
    t.equal(s.drill.report?.id, report.id, 'status shows the latest drill');
    t.same(raised, [], 'no alert: fresh verified backup and a successful drill');
  });

  await t.test('manifest row counts do not match the dump', async (t) => {
    const b = await f.service().run();
    // The dump lost rows somewhere between count and dump: simulate with a manifest whose counts differ.
    const mPath = join(f.nasDir, layout.manifest(b.id));
    const doc = JSON.parse(readFileSync(mPath, 'utf8'));
    doc.payload.tables.find((x: { name: string }) => x.name === 'public.bk_sales').rows += 7;
    writeFileSync(mPath, JSON.stringify(signDocument(doc.payload, SigningKey.loadOrCreate(f.secrets))));
    const report = await drill.run(f.nas, f.drill.identity, { workDir: work });
    t.notOk(report.ok, 'drill fails');
    t.same(report.check?.rowMismatches, [{ table: 'public.bk_sales', expected: 2007, actual: 2000 }], 'mismatch reported per table');
    const { raised } = await statusOf();
    t.ok(raised.includes(BackupAlert.drillFailed), 'failed drill alerted');
  });

  await t.test('a foreign key that does not survive the restore', async (t) => {
    // An orphan row slipped in with triggers off: pg_restore cannot recreate the FK.
    await f.db.ds.transaction(async (m) => {
      await m.query(`SET LOCAL session_replication_role = replica`);
      await m.query(`INSERT INTO bk_sales VALUES (gen_random_uuid(), 999999, now(), '3400900000000', 1, 'orphelin')`);
    });
    await new Promise((r) => setTimeout(r, 1100)); // backup ids are per second
    const b = await f.service().run();
    t.equal(b.status, 'verified');
    t.ok(b.manifest!.foreignKeys.some((fk) => fk.table === 'public.bk_sales'), 'manifest lists the FK');
    const report = await drill.run(f.nas, f.drill.identity, { workDir: work });
    t.notOk(report.ok, 'drill fails');
    t.ok(report.check?.missingForeignKeys.some((k) => k.startsWith('public.bk_sales.')), 'dropped foreign key reported');
    t.ok(report.restoreErrors.length > 0, 'pg_restore error kept in the report');
  });
});
