import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { applyRequestFile, incomingDir } from './apply-request.js';
import { readUpgradeJournal, upgradeJournalFile } from './upgrade-ports.js';
import { ReleaseLayout } from './upgrade.service.js';

/** What the console shows before an upgrade: French text, and the staged bundles it may pick by number. */
export interface UpgradeOverview {
  text: string;
  /** Absolute paths of the bundles staged from the admin page, oldest first. */
  staged: string[];
}

const STEP: Record<string, string> = {
  'upgrade.started': 'début',
  'upgrade.refused': 'PAQUET REFUSÉ',
  'upgrade.verified': 'paquet vérifié',
  'upgrade.backup': 'sauvegarde préalable',
  'upgrade.stopped': 'services arrêtés',
  'upgrade.snapshot': 'instantané de la base',
  'upgrade.migrated': 'migrations appliquées',
  'upgrade.switched': 'bascule',
  'upgrade.completed': 'TERMINÉE',
  'upgrade.failed': 'ÉCHEC',
  'upgrade.rollback.database_restored': 'base restaurée',
  'upgrade.rolled_back': 'RETOUR ARRIÈRE effectué',
  'upgrade.rollback_failed': 'RETOUR ARRIÈRE ÉCHOUÉ',
};

const when = (d: Date) => d.toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'medium' });

/** The installed version, the bundles waiting to be applied and the last upgrade steps (from the journal). */
export function upgradeOverview(config: Config, runningVersion: string, historyLines = 12): UpgradeOverview {
  const lines: string[] = [];
  try {
    lines.push(`Version en service : ${new ReleaseLayout(config.INSTALL_DIR).currentVersion()} (${join(config.INSTALL_DIR, 'current')})`);
  } catch {
    lines.push(`Version en service : ${runningVersion} (aucune version installée sous ${config.INSTALL_DIR} : pas de mise à jour possible ici)`);
  }

  const dir = incomingDir(config.dataDir);
  const staged = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.bundle'))
        .map((f) => join(dir, f))
        .filter((p) => statSync(p).isFile())
        .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
    : [];
  let requested: string | undefined;
  try {
    requested = (JSON.parse(readFileSync(applyRequestFile(config.dataDir), 'utf8')) as { bundle?: string }).bundle;
  } catch {
    /* no pending request */
  }
  lines.push('');
  if (!staged.length) lines.push('Aucune archive déposée depuis la page d’administration.');
  else {
    lines.push('Archives déposées depuis la page d’administration :');
    staged.forEach((p, i) => {
      const st = statSync(p);
      const mb = (st.size / 1024 / 1024).toLocaleString('fr-FR', { maximumFractionDigits: 1 });
      lines.push(`  ${i + 1}) ${p} (${mb} Mo, déposée le ${when(st.mtime)})${p === requested ? ' — application demandée' : ''}`);
    });
  }

  const history = readUpgradeJournal(config.dataDir, historyLines);
  lines.push('');
  if (!history.length) lines.push('Historique : aucune mise à jour enregistrée.');
  else {
    lines.push(`Historique (dernières étapes, ${upgradeJournalFile(config.dataDir)}) :`);
    for (const e of history) {
      const versions = e.to ? `${e.from ?? '?'} → ${e.to}` : (e.from ?? '');
      const why =
        typeof e.error === 'string'
          ? ` : ${e.error.slice(0, 80)}`
          : e.action === 'upgrade.backup'
            ? typeof e.backupId === 'string'
              ? ` : ${e.backupId} (${e.backupStatus === 'verified' ? 'vérifiée' : 'PARTIELLE'})`
              : ' : aucune cible configurée'
            : '';
      lines.push(`  ${when(new Date(e.at))}  ${(STEP[e.action] ?? e.action).padEnd(24)} ${versions}${why}`);
    }
  }
  return { text: lines.join('\n'), staged };
}
