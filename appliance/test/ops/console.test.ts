import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pgLib from 'pg';
import t from 'tap';
import { createLogger } from '../../src/logging/logger.js';
import { DailyLogFiles } from '../../src/logging/log-retention.js';
import { incomingDir } from '../../src/upgrade/apply-request.js';
import { buildKeyList, generateReleaseKey } from '../../src/upgrade/release-signing.js';
import { UpgradeAuditTrail, upgradeJournalFile } from '../../src/upgrade/upgrade-ports.js';
import { createTestDatabase } from '../helpers/db.js';
import { tempDir } from '../helpers/app.js';
import { buildTinyBundle, migrationEntryPointsOverlay, readyzServer, writeInstalledRelease } from '../helpers/bundle.js';
import { CLI, cliEnv, waitFor } from '../helpers/ops-process.js';

/** A private tmux server driving `appliance console` on a real pseudo-terminal. */
class Tmux {
  constructor(private readonly socket: string) {}
  run(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }
  screen(): string {
    return this.run('capture-pane', '-p', '-J', '-t', 'console');
  }
  type(text: string): void {
    this.run('send-keys', '-t', 'console', '-l', text);
    this.run('send-keys', '-t', 'console', 'Enter');
  }
  /** Waits for the menu's own prompt (the redrawn screen ends with it). */
  menu(): Promise<string> {
    return this.expect(/Votre choix :$/, 'the menu prompt');
  }

  /** Waits until the screen matches, returns it. */
  async expect(re: RegExp, what: string): Promise<string> {
    let last = '';
    try {
      await waitFor(async () => re.test((last = this.screen().trimEnd())), 30_000);
    } catch {
      throw new Error(`screen never showed ${what} (${re}):\n${last}`);
    }
    return last;
  }
}

async function readOnlyEnabled(url: string): Promise<boolean> {
  const c = new pgLib.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query(`SELECT value FROM appliance_settings WHERE key = 'read_only'`);
    return (r.rows[0]?.value as { enabled?: boolean } | undefined)?.enabled === true;
  } finally {
    await c.end();
  }
}

t.test('console menu through tmux: status, read-only only after confirmation, logs, upgrade', async (t) => {
  const db = await createTestDatabase(t);
  const dir = tempDir(t, 'officine-console-');
  // An installed release 0.1.0 with pinned release keys, an unsigned bundle staged from the
  // admin page, a signed 0.2.0 bundle, one past upgrade in the journal, and a log file.
  const installDir = join(dir, 'opt');
  writeInstalledRelease(installDir, '0.1.0');
  const releaseKey = generateReleaseKey();
  const keysFile = join(dir, 'release-keys.json');
  writeFileSync(keysFile, JSON.stringify(buildKeyList([releaseKey.publicKey], 1)));
  const work = join(dir, 'bundles');
  mkdirSync(work);
  const staged = join(incomingDir(dir), `${'a'.repeat(24)}.bundle`);
  mkdirSync(incomingDir(dir), { recursive: true });
  copyFileSync(await buildTinyBundle(work, { version: '0.2.0' }), staged);
  const signed = await buildTinyBundle(work, { version: '0.2.0', keyPem: releaseKey.privatePem, overlay: migrationEntryPointsOverlay() });
  const servicesLog = join(dir, 'services.log');
  writeFileSync(servicesLog, '');
  await new UpgradeAuditTrail(createLogger('silent'), upgradeJournalFile(dir), undefined).record('upgrade.completed', { from: '0.0.9', to: '0.1.0' });
  const journalBefore = readFileSync(upgradeJournalFile(dir), 'utf8');
  const logDir = join(dir, 'logs');
  createLogger('info', new DailyLogFiles(logDir)).info({ port: 8080 }, 'marqueur du journal pour la console');
  const env = cliEnv(db.url, dir, {
    PUBLIC_URL: 'https://officine.groupement.test',
    LOG_LEVEL: 'warn',
    INSTALL_DIR: installDir,
    RELEASE_KEYS_FILE: keysFile,
    LOG_DIR: logDir,
    // the upgrade's stop/start and health gate (no backup target: the local snapshot only)
    PORT: String(await readyzServer(t)),
    SERVICE_MANAGER: 'command',
    SERVICE_STOP_COMMAND: `echo stop >> '${servicesLog}'`,
    SERVICE_START_COMMAND: `echo start >> '${servicesLog}'`,
  });
  const script = join(dir, 'console.sh');
  const exports = Object.entries(env).map(([k, v]) => `export ${k}='${String(v).replace(/'/g, `'\\''`)}'`).join('\n');
  // The pane stays open after the console exits (so its last screen and exit code can be read).
  writeFileSync(script, `#!/bin/sh\n${exports}\n'${process.execPath}' '${CLI}' console\necho "[exit $?]"\nsleep 60\n`, { mode: 0o700 });

  const tmux = new Tmux(`officine-test-${process.pid}`);
  tmux.run('new-session', '-d', '-s', 'console', '-x', '140', '-y', '60', script);
  t.teardown(() => {
    try {
      tmux.run('kill-server');
    } catch {
      /* already gone */
    }
  });

  let s = await tmux.menu();
  t.match(s, /Interface web : https:\/\/officine\.groupement\.test/, 'shows the web URL');
  t.match(s, /Lecture seule : désactivée/, 'shows the read-only state');
  t.match(s, /Serveur web : ARRÊTÉ/, 'shows web health');
  t.match(s, /1\) État détaillé/);
  t.match(s, /2\) Activer le mode lecture seule/);
  t.match(s, /0\) Quitter/);

  tmux.type('1');
  s = await tmux.expect(/Appuyez sur Entrée/, 'the status');
  t.match(s, /PostgreSQL\s+en marche/, 'status: database');
  t.match(s, /Mémoire/, 'status: memory');
  tmux.type('');

  // Enable, but answer "non": nothing changes.
  await tmux.menu();
  tmux.type('2');
  await tmux.expect(/Raison/, 'the reason prompt');
  tmux.type('Maintenance disque');
  await tmux.expect(/Tapez « oui » pour confirmer/, 'the confirmation');
  tmux.type('non');
  s = await tmux.expect(/Annulé/, 'the cancellation');
  t.equal(await readOnlyEnabled(db.url), false, 'not switched without confirmation');
  tmux.type('');

  // Enable with "oui".
  await tmux.menu();
  tmux.type('2');
  await tmux.expect(/Raison/, 'the reason prompt');
  tmux.type('Maintenance disque');
  await tmux.expect(/Tapez « oui » pour confirmer/, 'the confirmation');
  tmux.type('oui');
  await tmux.expect(/Mode lecture seule ACTIVÉ/, 'the confirmation message');
  t.equal(await readOnlyEnabled(db.url), true, 'switched on after « oui »');
  tmux.type('');
  // Wait for the whole menu (its last line), not only the header: the screen is drawn line by line.
  s = await tmux.expect(/Lecture seule : ACTIVÉE[\s\S]*Votre choix :$/, 'the header showing it, and the menu');
  t.match(s, /2\) Désactiver le mode lecture seule/, 'menu entry flips');

  // Accounts and the audit chain (identity module).
  tmux.type('5');
  await tmux.expect(/compte\(s\)|Aucun compte/, 'the accounts');
  tmux.type('');
  await tmux.menu();
  tmux.type('6');
  s = await tmux.expect(/Journal d’audit intègre : \d+ entrée/, 'the audit verification');
  t.pass('audit chain verified from the console (the read-only change was audited)');
  tmux.type('');
  await tmux.menu();

  // Backups: listing, and "backup now" only after « oui » (no target configured here: a clear refusal).
  tmux.type('4');
  await tmux.expect(/Aucune sauvegarde enregistrée/, 'the (empty) backup list');
  tmux.type('');
  await tmux.menu();
  tmux.type('3');
  await tmux.expect(/Tapez « oui » pour confirmer/, 'the backup confirmation');
  tmux.type('non');
  await tmux.expect(/Annulé/, 'the cancellation');
  tmux.type('');
  await tmux.menu();
  tmux.type('3');
  await tmux.expect(/Tapez « oui » pour confirmer/, 'the backup confirmation');
  tmux.type('oui');
  await tmux.expect(/Aucune cible de sauvegarde configurée/, 'a clear refusal without a target');
  t.pass('backup now asks for confirmation and explains why it cannot run');
  tmux.type('');
  await tmux.menu();

  // Logs: the daily log files of LOG_DIR.
  tmux.type('7');
  s = await tmux.expect(/Appuyez sur Entrée/, 'the logs');
  t.match(s, /Derniers journaux/, 'logs heading');
  t.match(s, /info\s+marqueur du journal pour la console/, 'the line written to LOG_DIR, rendered');
  tmux.type('');
  await tmux.menu();

  // Upgrade: version, staged bundles and history; an unsigned bundle is refused in French.
  const releases = () => readdirSync(join(installDir, 'releases')).sort();
  tmux.type('8');
  s = await tmux.expect(/Archive à appliquer \(numéro ci-dessus ou chemin ; Entrée pour revenir\) :$/, 'the upgrade screen');
  t.match(s, /Version en service : 0\.1\.0/, 'shows the installed version');
  t.match(s, new RegExp(`1\\) ${staged}`), 'lists the bundle staged from the admin page');
  t.match(s, /TERMINÉE\s+0\.0\.9 → 0\.1\.0/, 'shows the upgrade history from the journal');
  tmux.type('1');
  s = await tmux.expect(/Appuyez sur Entrée/, 'the verdict');
  t.match(s, /Paquet refusé : il n’est pas signé\./, 'the French refusal of an unsigned bundle');
  t.notMatch(s, /Tapez « oui »/, 'no confirmation is asked for a refused bundle');
  t.same(releases(), ['0.1.0'], 'nothing unpacked');
  tmux.type('');
  await tmux.menu();

  // A valid bundle by path: verified, then « non » changes nothing.
  tmux.type('8');
  await tmux.expect(/Archive à appliquer/, 'the upgrade prompt');
  tmux.type(signed);
  s = await tmux.expect(/Tapez « oui » pour confirmer :$/, 'the confirmation');
  t.match(s, /Paquet valide : version 0\.2\.0/, 'verified before asking');
  t.match(s, /Passer à la version 0\.2\.0 \?/, 'names the version it would install');
  tmux.type('non');
  await tmux.expect(/Annulé : rien n’a été modifié/, 'the cancellation');
  t.equal(readlinkSync(join(installDir, 'current')), join('releases', '0.1.0'), 'current unchanged');
  t.same(releases(), ['0.1.0'], 'nothing unpacked');
  t.equal(readFileSync(upgradeJournalFile(dir), 'utf8'), journalBefore, 'no upgrade step journaled');
  t.equal(readFileSync(servicesLog, 'utf8'), '', 'services untouched');
  tmux.type('');

  // The same bundle with « oui »: applied by the upgrade service, then in the history.
  await tmux.menu();
  tmux.type('8');
  await tmux.expect(/Archive à appliquer/, 'the upgrade prompt');
  tmux.type(signed);
  await tmux.expect(/Tapez « oui » pour confirmer :$/, 'the confirmation');
  tmux.type('oui');
  s = await tmux.expect(/Appuyez sur Entrée/, 'the outcome');
  t.match(s, /Mise à jour appliquée : version 0\.2\.0 en service/, 'applied after « oui »');
  t.equal(readlinkSync(join(installDir, 'current')), join('releases', '0.2.0'), 'current switched');
  t.equal(readFileSync(servicesLog, 'utf8'), 'stop\nstart\n', 'services stopped and started once');
  tmux.type('');
  await tmux.menu();
  tmux.type('8');
  s = await tmux.expect(/Archive à appliquer/, 'the upgrade screen again');
  t.match(s, /Version en service : 0\.2\.0/, 'the new version');
  t.match(s, /sauvegarde préalable\s+0\.1\.0 → 0\.2\.0 : aucune cible configurée/, 'history: the backup step (no target here)');
  t.match(s, /TERMINÉE\s+0\.1\.0 → 0\.2\.0/, 'history: this upgrade');
  tmux.type('');
  await tmux.expect(/Appuyez sur Entrée/, 'back');
  tmux.type('');


  // Disable (confirmed), then quit.
  await tmux.menu();
  tmux.type('2');
  await tmux.expect(/Tapez « oui » pour confirmer/, 'the confirmation');
  tmux.type('oui');
  await tmux.expect(/Mode lecture seule DÉSACTIVÉ/, 'off');
  t.equal(await readOnlyEnabled(db.url), false, 'switched off');
  tmux.type('');
  await tmux.menu();
  tmux.type('0');
  await tmux.expect(/Au revoir\.\s*\[exit 0\]/, 'the goodbye and exit code 0');
  t.pass('« 0 » quits cleanly');
});
