// The restore drill through the real console, on two "hosts" sharing one NAS (a tmpfs
// mount): the appliance (its database, its manifest-signing key) and the isolated drill
// host (its own secrets dir, the drill age identity, the appliance's public key pinned).
// Each pins the other's public key as printed by `appliance backup key [--drill]`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { layout } from '../../src/backup/backup-manifest.js';
import type { StatusReport } from '../../src/ops/status/status.service.js';
import { tempDir } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { ageKeyPair, backupFixture } from './helpers.js';

type DrillJson = { id: string; backupId: string | null; ok: boolean; finishedAt: string; error: string | null };
type BackupStatusJson = { drill: { report: DrillJson | null; lastSuccess: DrillJson | null; source: string | null }; alerts: { code: string }[] };
type TargetStatus = Extract<StatusReport['backups'], { available: boolean }>['targets'][number];

/** How `appliance status` prints a date (Europe/Paris, short). */
const paris = (iso: string) => new Date(iso).toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' });

t.test('console: backup run, drill from the NAS (wrong identity, then the drill key), appliance status shows the signed report', async (t) => {
  const f = await backupFixture(t, { rows: 1000 });
  const nas = { BACKUP_TARGETS: 'nas', NAS_MODE: 'mount', NAS_MOUNT_PATH: f.nasDir };
  const appliance = {
    ...nas,
    DATABASE_URL: f.db.url,
    SECRETS_DIR: f.config.secretsDir,
    DATA_DIR: f.config.dataDir,
    BACKUP_RECIPIENTS: f.config.BACKUP_RECIPIENTS.join(','),
    PORT: '1', // no web server in this test: `appliance status` exits 1 for that, whatever the backups say
  };
  const signer = await runCli(['backup', 'key'], appliance);
  t.match(signer.stdout, /^ed25519:[A-Za-z0-9+/]{43}=\n$/, 'appliance prints its manifest-signing key');
  const drillData = tempDir(t, 'officine-drillhost-');
  const drillHost = { ...nas, DATA_DIR: drillData, SECRETS_DIR: join(drillData, 'secrets'), BACKUP_SIGNER_PUBLIC_KEY: signer.stdout.trim() };
  const drillPub = await runCli(['backup', 'key', '--drill'], drillHost);
  t.equal(drillPub.code, 0);
  t.match(drillPub.stdout, /^ed25519:[A-Za-z0-9+/]{43}=\n$/, 'drill host prints its report-signing key');
  t.not(drillPub.stdout, signer.stdout, 'a key of its own');
  t.equal((await runCli(['backup', 'key', '--drill'], drillHost)).stdout, drillPub.stdout, 'stable across runs');
  const watched = { ...appliance, BACKUP_DRILL_PUBLIC_KEY: drillPub.stdout.trim() };
  const targetStatus = async () => {
    const r = await runCli(['status', '--json'], watched);
    t.equal(r.code, 1, 'status exits 1: web server down (PORT=1), not because of backups', { stderr: r.stderr });
    const report = JSON.parse(r.stdout) as StatusReport;
    t.ok(report.backups && 'available' in report.backups && report.backups.available, 'backups section available');
    return (report.backups as { targets: TargetStatus[] }).targets;
  };
  const backupStatus = async () => {
    const r = await runCli(['backup', 'status', '--json'], watched);
    return { code: r.code, s: JSON.parse(r.stdout) as BackupStatusJson };
  };

  const b = await runCli(['backup', 'run', '--json'], appliance);
  t.equal(b.code, 0, 'backup run exits 0', { stderr: b.stderr });
  const backup = JSON.parse(b.stdout) as { id: string; status: string };
  t.equal(backup.status, 'verified');

  const none = await targetStatus();
  t.match(none, [{ target: 'nas', lastBackupOk: true, lastDrillAt: null, lastDrillOk: null }], 'no drill yet');

  await t.test('a drill with an identity that is not a recipient fails, and says so', async (t) => {
    const stranger = ageKeyPair(tempDir(t), 'stranger');
    const r = await runCli(['drill', '--identity', stranger.identity, '--from', 'nas', '--workdir', tempDir(t)], drillHost);
    t.equal(r.code, 1, 'non-zero exit', { stdout: r.stdout, stderr: r.stderr });
    t.match(r.stdout, /^Exercice \d{8}T\d{6}Z sur \? : ÉCHEC \(restore_wrong_key: Cette clé ne fait pas partie des destinataires de la sauvegarde : refusé\.\)\n$/, 'French verdict with the reason');
    t.match(r.stderr, /"msg":"restore drill finished"/, 'its error log goes to stderr, not into the answer');
    await new Promise((r) => setTimeout(r, 1100)); // drill report ids are per second
    const missing = await runCli(['drill', '--identity', join(tempDir(t), 'absent.key'), '--from', 'nas', '--json', '--workdir', tempDir(t)], drillHost);
    t.equal(missing.code, 1, 'an unreadable identity file fails too');
    t.match(JSON.parse(missing.stdout), { ok: false, error: /^restore_bad_identity: Clé age illisible/ }, '--json: the failed report alone on stdout, with the reason');

    const [nasRow] = await targetStatus();
    t.equal(nasRow?.lastDrillOk, false, 'appliance status: the last drill on the NAS failed');
    t.ok(nasRow?.lastDrillAt && Date.now() - Date.parse(nasRow.lastDrillAt) < 120_000, 'dated now');
    const text = await runCli(['status'], watched);
    t.match(text.stdout, new RegExp(`\\n  nas +sauvegarde [^\\n]+ \\(OK\\), exercice de restauration ${paris(nasRow!.lastDrillAt!).replace(/\//g, '\\/')} \\(ÉCHEC\\)\\n`), 'French text: backup OK, drill ÉCHEC with its date');

    const { code, s } = await backupStatus();
    t.equal(code, 3, 'backup status exits 3: alerts due');
    t.equal(s.drill.report?.ok, false, 'latest report: failed');
    t.equal(s.drill.lastSuccess, null, 'no successful drill');
    t.equal(s.drill.source, 'nas');
    t.same(s.alerts.map((a) => a.code).sort(), ['backup.drill_failed', 'backup.no_successful_drill_35d'], 'failed drill and no successful drill alerted');
    const human = await runCli(['backup', 'status'], watched);
    t.match(human.stdout, /Dernier exercice de restauration : \d{8}T\d{6}Z ÉCHEC \(sauvegarde \?\)/, 'French: ÉCHEC');
  });

  await t.test('a drill with the drill key passes and publishes a signed report the appliance shows', async (t) => {
    await new Promise((r) => setTimeout(r, 1100)); // drill report ids are per second
    const r = await runCli(['drill', '--identity', f.drill.identity, '--from', 'nas', '--json', '--workdir', tempDir(t)], drillHost);
    t.equal(r.code, 0, 'drill exits 0', { stderr: r.stderr });
    const report = JSON.parse(r.stdout) as DrillJson;
    t.match(report, { ok: true, backupId: backup.id, error: null }, 'drilled the backup just made');
    const published = JSON.parse(readFileSync(join(f.nasDir, layout.drill(report.id)), 'utf8')) as { payload: DrillJson; signer: string };
    t.equal(published.payload.id, report.id, 'report written to the NAS');
    t.equal(published.signer, drillPub.stdout.trim(), 'signed by the drill host’s key');

    const [nasRow] = await targetStatus();
    t.match(nasRow, { target: 'nas', lastBackupOk: true, lastDrillAt: report.finishedAt, lastDrillOk: true }, 'appliance status --json: date and outcome of that drill');
    const text = await runCli(['status'], watched);
    t.match(text.stdout, new RegExp(`\\n  nas +sauvegarde [^\\n]+ \\(OK\\), exercice de restauration ${paris(report.finishedAt).replace(/\//g, '\\/')} \\(OK\\)\\n`), 'French text: drill OK with its date');

    const { code, s } = await backupStatus();
    t.equal(code, 0, 'backup status exits 0: nothing due');
    t.equal(s.drill.report?.id, report.id);
    t.equal(s.drill.lastSuccess?.id, report.id, 'last successful drill');
    t.same(s.alerts, []);
    const human = await runCli(['backup', 'status'], watched);
    t.match(human.stdout, new RegExp(`Dernier exercice de restauration : ${report.id} réussi \\(sauvegarde ${backup.id}\\)`), 'French: réussi');

    // Reports are trusted only under the pinned drill-host key.
    const other = await runCli(['status', '--json'], { ...appliance, BACKUP_DRILL_PUBLIC_KEY: signer.stdout.trim() });
    t.match((JSON.parse(other.stdout) as StatusReport).backups, { targets: [{ target: 'nas', lastDrillAt: null, lastDrillOk: null }] }, 'another pinned key: no drill shown');
  });
});
