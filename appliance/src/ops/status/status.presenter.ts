import { walSpoolLate } from '../../backup/wal-spool.js';
import type { Section, StatusReport } from './status.service.js';

const isErr = <T>(s: Section<T>): s is { error: string } => typeof s === 'object' && s !== null && 'error' in s && Object.keys(s).length === 1;
const bytes = (n: number | null) => {
  if (n === null) return '?';
  const units = ['o', 'Ko', 'Mo', 'Go', 'To'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toLocaleString('fr-FR', { maximumFractionDigits: 1 })} ${units[i]}`;
};
const dur = (s: number) => {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d} j ${h} h` : `${h} h ${m} min`;
};
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' }) : 'jamais');
const okKo = (ok: boolean | null) => (ok === null ? '' : ok ? ' (OK)' : ' (ÉCHEC)');
const num = (x: number, digits = 1) => x.toLocaleString('fr-FR', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const NA = 'non disponible (module pas encore installé)';

/** Renders the status report for people, in French, one fact per line. */
export function renderStatus(r: StatusReport): string {
  const L: string[] = [];
  const row = (label: string, value: string) => L.push(`  ${label.padEnd(24)} ${value}`);
  L.push(`Officine Appliance ${r.version} — état au ${when(r.generatedAt)}`, '');

  L.push('Système');
  if (isErr(r.system)) row('Erreur', r.system.error);
  else {
    row('Démarré depuis', dur(r.system.hostUptimeS));
    row('Processeur', `${r.system.cpuPercent.toLocaleString('fr-FR')} %`);
    row('Charge (1/5/15 min)', r.system.load.map((x) => num(x, 2)).join(' / '));
    row('Mémoire', `${r.system.memory.usedPercent.toLocaleString('fr-FR')} % utilisée sur ${bytes(r.system.memory.totalBytes)}`);
    for (const d of r.system.disks) row(`Disque ${d.mount}`, `${num(d.usePercent)} % utilisé (${bytes(d.usedBytes)} / ${bytes(d.sizeBytes)})`);
  }

  L.push('', 'Services');
  row('Serveur web', r.processes.web.ok ? `en marche (${r.processes.web.url})` : `ARRÊTÉ ou injoignable (${r.processes.web.error ?? '?'})`);
  if (r.processes.web.instances !== null) {
    row('Processus web', `${r.processes.web.instances} connecté(s) à la base${r.processes.web.uptimeS !== null ? `, le plus ancien depuis ${dur(r.processes.web.uptimeS)}` : ''}`);
  }
  const sch = r.processes.scheduler;
  row('Planificateur', sch.available ? `${sch.active === null ? 'état inconnu' : sch.active ? 'en marche' : 'ARRÊTÉ'}, dernière tâche : ${when(sch.lastRunAt)}` : NA);
  row('PostgreSQL', r.postgres.ok ? `en marche (version ${r.postgres.version})` : `INJOIGNABLE (${r.postgres.error ?? '?'})`);
  if (r.postgres.ok) {
    row('Taille de la base', bytes(r.postgres.sizeBytes));
    row('Connexions', `${r.postgres.connections} / ${r.postgres.maxConnections}`);
  }
  row('Migrations en attente', isErr(r.migrations) ? `erreur : ${r.migrations.error}` : r.migrations.pending.length ? r.migrations.pending.join(', ') : 'aucune');
  row('Mode lecture seule', isErr(r.readOnly) ? `erreur : ${r.readOnly.error}` : r.readOnly.enabled ? `ACTIVÉ depuis ${when(r.readOnly.since)} par ${r.readOnly.by} — ${r.readOnly.reason}` : 'désactivé');

  L.push('', 'Certificat TLS');
  if (isErr(r.tls)) row('Erreur', r.tls.error);
  else if (!r.tls) row('Certificat', 'aucun à surveiller (PUBLIC_URL en http et TLS_CERT_FILE absent)');
  else row(r.tls.subject.slice(0, 24), `expire le ${when(r.tls.notAfter)} (${r.tls.daysLeft} jour(s))${r.tls.daysLeft <= 14 ? ' — À RENOUVELER' : ''}`);

  L.push('', 'Sauvegardes');
  if (isErr(r.backups)) row('Erreur', r.backups.error);
  else if (!r.backups.available) row('Sauvegardes', NA);
  else if (r.backups.targets.length === 0) row('Sauvegardes', 'AUCUNE CIBLE CONFIGURÉE');
  else for (const t of r.backups.targets) row(t.target, `sauvegarde ${when(t.lastBackupAt)}${okKo(t.lastBackupOk)}, exercice de restauration ${when(t.lastDrillAt)}${okKo(t.lastDrillOk)}`);
  if (!isErr(r.backups) && r.backups.walSpool) {
    const w = r.backups.walSpool;
    row(
      'WAL en attente',
      w.error
        ? `file ${w.dir} illisible : ${w.error}`
        : w.pending === 0
          ? 'aucun'
          : `${w.pending} segment(s), le plus ancien depuis ${Math.round((w.oldestAgeS ?? 0) / 60)} min${walSpoolLate(w.oldestAgeS, w.maxAgeS) ? ' — EN RETARD' : ''}`,
    );
  }

  L.push('', 'Agents des pharmacies');
  if (isErr(r.agents)) row('Erreur', r.agents.error);
  else if (!r.agents.available) row('Agents', NA);
  else {
    row('En ligne', `${r.agents.online} sur ${r.agents.total}`);
    row('En retard (> 48 h)', r.agents.late.length ? r.agents.late.map((a) => `${a.pharmacyName} (${when(a.lastSeenAt)})`).join(', ') : 'aucun');
  }
  return L.join('\n') + '\n';
}
