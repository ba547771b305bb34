import t from 'tap';
import { layout } from '../../src/backup/backup-manifest.js';
import { backupTools } from '../../src/backup/backup-settings.js';
import { DrillService, type DrillReport } from '../../src/backup/drill.service.js';
import { RestoreService } from '../../src/backup/restore.service.js';
import { signDocument } from '../../src/backup/signed-document.js';
import { SigningKey, trustedManifestSigners } from '../../src/backup/signing-key.js';
import { DirectoryStore } from '../../src/backup/targets/directory-store.js';
import { SecretStore } from '../../src/config/secrets.js';
import { createLogger } from '../../src/logging/logger.js';
import { tempDir } from '../helpers/app.js';
import { createUser } from '../helpers/auth.js';
import { assertAccessible, assertClean, launchBrowser, openPage, signIn, startBrowserApp } from '../helpers/browser.js';
import { oathtoolTotp } from '../helpers/totp.js';
import { mountTmpfs } from '../backup/helpers.js';

const SUPER_SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
// The UI's date format (web/src/format.ts), computed here independently.
const frDateTime = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' });
const norm = (s: string | null) => (s ?? '').replace(/\s+/g, ' ').trim();

interface ApiBackups {
  drill: { report: DrillReport | null; lastSuccess: DrillReport | null; source: string | null; trusted: boolean };
  alerts: { code: string; message: string }[];
}

// The super-admin's backups page shows the newest signed drill report as the backup
// module stores it (drills/<id>.json on a target, signed by the drill host's key) and
// reads it (BackupStatusService, trusting only the pinned drill key).
t.test('backups page: the latest drill report (date, outcome, target) as the API gives it; a failed drill shows as a failure', async (t) => {
  const nasDir = mountTmpfs(t);
  const nas = new DirectoryStore('nas', nasDir, { requireMount: true });
  const drillKey = SigningKey.loadOrCreate(new SecretStore(tempDir(t, 'officine-drill-host-')), 'drill-signing-key.pem');
  const stranger = SigningKey.loadOrCreate(new SecretStore(tempDir(t, 'officine-stranger-')), 'drill-signing-key.pem');
  const app = await startBrowserApp(t, { BACKUP_TARGETS: 'nas', NAS_MODE: 'mount', NAS_MOUNT_PATH: nasDir, BACKUP_DRILL_PUBLIC_KEY: drillKey.publicId });
  const operator = await createUser(app.app, { role: 'super_admin', totpSecret: SUPER_SEED });

  // A successful drill of 1 November 2026, 02:47 UTC (03:47 in Paris), published as DrillService does.
  const good: DrillReport = {
    format: 'officine-drill/1',
    id: '20261101T024500Z',
    backupId: '20261101T023000Z-a1b2c3',
    startedAt: '2026-11-01T02:45:00.000Z',
    finishedAt: '2026-11-01T02:47:00.000Z',
    host: 'hote-exercice.groupement.lan',
    ok: true,
    check: null,
    restoreErrors: [],
    error: null,
  };
  const publish = (report: DrillReport, key: SigningKey) => nas.putBuffer(layout.drill(report.id), Buffer.from(JSON.stringify(signDocument(report, key), null, 2) + '\n'));
  await publish(good, drillKey);
  // Newer, claims success, but signed by a key the appliance does not pin: never shown.
  await publish({ ...good, id: '20991231T000000Z', finishedAt: '2099-12-31T00:01:00.000Z', host: 'imposteur.example' }, stranger);

  const browser = await launchBrowser(t);
  const tp = await openPage(t, browser, app.url);
  const { page } = tp;
  await signIn(page, operator.email, operator.password, { totp: oathtoolTotp(SUPER_SEED) });
  const api = async () => (await page.evaluate(`fetch('/api/admin/backups').then((r) => r.json())`)) as ApiBackups;

  await page.goto('/app/supervision/sauvegardes');
  const latest = page.getByTestId('drill-latest');
  await latest.getByText('réussi').waitFor();
  const before = await api();
  t.equal(before.drill.report?.id, good.id, 'API: the trusted report, not the newer forged one');
  t.equal(before.drill.source, 'nas');
  const shown = norm(await latest.textContent());
  t.equal(norm(frDateTime.format(new Date(before.drill.report!.finishedAt))), '01/11/2026 03:47', 'the API date in French, Paris time');
  t.equal(
    shown,
    norm(`${frDateTime.format(new Date(before.drill.report!.finishedAt))} sur ${before.drill.report!.host}, rapport signé lu sur la cible ${before.drill.source!} — réussi`),
    'page: date, host, target and outcome of the API’s report',
  );
  t.notMatch(shown, /imposteur|2099/, 'the report signed by an unknown key is not shown');
  t.equal(norm(await page.getByTestId('drill-last-success').textContent()), '01/11/2026 03:47', 'last successful drill');
  await assertAccessible(t, page, 'admin-backups-drill');

  // A real drill that fails (the NAS holds no backup), signed and published by DrillService itself.
  const restore = new RestoreService(backupTools(app.app.config), createLogger('silent'), trustedManifestSigners(drillKey.publicId, new SecretStore(tempDir(t))));
  const failed = await new DrillService(restore, drillKey, createLogger('silent')).run(nas, '/nonexistent-identity', { workDir: tempDir(t, 'officine-drill-work-') });
  t.equal(failed.ok, false, 'the drill failed');
  t.ok(failed.error, 'with a reason');

  await page.reload();
  await latest.getByText('ÉCHEC').waitFor();
  const after = await api();
  t.equal(after.drill.report?.id, failed.id, 'API: the failed drill is now the latest');
  t.equal(after.drill.report?.ok, false);
  t.equal(
    norm(await latest.textContent()),
    norm(`${frDateTime.format(new Date(after.drill.report!.finishedAt))} sur ${after.drill.report!.host}, rapport signé lu sur la cible nas — ÉCHEC : ${after.drill.report!.error!}`),
    'page: the failure, its date, target and reason, as the API gives them',
  );
  t.notMatch(norm(await latest.textContent()), /réussi/, 'not shown as a success');
  t.equal(norm(await page.getByTestId('drill-last-success').textContent()), '01/11/2026 03:47', 'the last success is still the November drill');
  t.ok(after.alerts.length > 0, 'the API raises an alert for it');
  const alerts = page.getByTestId('backup-alerts');
  t.equal(await alerts.getAttribute('role'), 'alert');
  for (const a of after.alerts) t.match(norm(await alerts.textContent()), norm(a.message), `alert shown: ${a.code}`);
  await assertClean(t, tp, 'backups page with drill reports');
});
