import { useState } from 'preact/hooks';
import type { AuditLogEntry, AuditLogPage, AuditVerification } from '../../../appliance/src/audit/audit.api';
import type { Wire } from '../../../appliance/src/http/wire.api';
import { api, get, post } from '../api/client';
import { announce } from '../components/announce';
import { DataTable } from '../components/data-table';
import { Field } from '../components/field';
import { ErrorNotice, InfoNotice, Loading } from '../components/notice';
import { useApi } from '../components/use-api';
import { formatDateTime } from '../format';

/**
 * Super-admin pages: status and health, backups and restore drills, the read-only
 * switch, the audit log with its chain check, and upgrades. Each talks to the
 * operations APIs of its module.
 */


const okText = (ok: unknown) => (ok === true ? 'OK' : ok === false ? 'ÉCHEC' : '—');

type Section<T> = T | { error: string };
const failed = <T,>(s: Section<T>): s is { error: string } => typeof s === 'object' && s !== null && 'error' in s && Object.keys(s).length === 1;

/** `GET /api/admin/status`: ops' StatusReport (the same facts as `appliance status`). */
interface StatusReport {
  version: string;
  generatedAt: string;
  system: Section<{ hostUptimeS: number; cpuPercent: number; load: number[]; memory: { usedPercent: number; totalBytes: number }; disks: { mount: string; usePercent: number; usedBytes: number; sizeBytes: number }[] }>;
  postgres: { ok: boolean; version?: string; error?: string; sizeBytes?: number; connections?: number; maxConnections?: number };
  processes: { web: { ok: boolean; url: string; error?: string; instances: number | null; uptimeS: number | null }; scheduler: { available: boolean; active: boolean | null; lastRunAt: string | null } };
  tls: Section<{ source: string; subject: string; notAfter: string; daysLeft: number } | null>;
  backups: Section<{ available: boolean; targets: { target: string; lastBackupAt: string | null; lastBackupOk: boolean | null; lastDrillAt: string | null; lastDrillOk: boolean | null }[] }>;
  agents: Section<{ available: boolean; total: number; online: number; late: { agentId: string; pharmacyName: string; lastSeenAt: string | null }[] }>;
  readOnly: Section<{ enabled: boolean; reason: string | null; since: string | null; by: string | null }>;
  migrations: Section<{ pending: string[] }>;
}

function duration(s: number | null): string {
  if (s === null) return '—';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d} j ${h} h` : `${h} h ${m} min`;
}

/** One fact of the status list; a section that could not be read shows its error. */
function Fact<T>({ label, value, render }: { label: string; value: Section<T>; render: (v: T) => string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{failed(value) ? `illisible : ${value.error}` : render(value)}</dd>
    </>
  );
}

/** Appliance status: processes, database, system, TLS, backups, agents, read-only, migrations. */
export function StatusPage() {
  const st = useApi((s) => get<StatusReport>('/api/admin/status', undefined, s), []);
  const d = st.data;
  return (
    <>
      <h1>État de l’appliance</h1>
      <ErrorNotice error={st.error} />
      {st.loading && <Loading />}
      {d && (
        <p>
          Registre des traitements et des sous-traitants :{' '}
          <a href="/api/admin/gdpr/register?format=csv" download>
            télécharger (CSV)
          </a>
        </p>
      )}
      {d && (
        <dl class="facts" data-testid="status">
          <dt>Version</dt>
          <dd>{d.version}</dd>
          <dt>État au</dt>
          <dd>{formatDateTime(d.generatedAt)}</dd>
          <dt>Serveur web</dt>
          <dd>{d.processes.web.ok ? `en marche${d.processes.web.uptimeS !== null ? ` depuis ${duration(d.processes.web.uptimeS)}` : ''}` : `ARRÊTÉ ou injoignable (${d.processes.web.error ?? '?'})`}</dd>
          <dt>Planificateur</dt>
          <dd>{!d.processes.scheduler.available ? 'non disponible' : `${d.processes.scheduler.active ? 'actif' : 'INACTIF'} — dernière tâche : ${formatDateTime(d.processes.scheduler.lastRunAt)}`}</dd>
          <dt>PostgreSQL</dt>
          <dd>{d.postgres.ok ? `en marche (version ${d.postgres.version ?? '?'}, ${d.postgres.connections ?? '?'} / ${d.postgres.maxConnections ?? '?'} connexions, ${size(d.postgres.sizeBytes ?? null)})` : `INJOIGNABLE (${d.postgres.error ?? '?'})`}</dd>
          <Fact label="Système" value={d.system} render={(v) => `processeur ${v.cpuPercent.toLocaleString('fr-FR')} %, mémoire ${v.memory.usedPercent.toLocaleString('fr-FR')} % de ${size(v.memory.totalBytes)}, démarré depuis ${duration(v.hostUptimeS)}`} />
          <Fact label="Disques" value={d.system} render={(v) => v.disks.map((x) => `${x.mount} : ${x.usePercent.toLocaleString('fr-FR', { maximumFractionDigits: 1 })} % (${size(x.usedBytes)} / ${size(x.sizeBytes)})`).join(' ; ') || '—'} />
          <Fact label="Migrations en attente" value={d.migrations} render={(v) => (v.pending.length ? v.pending.join(', ') : 'aucune')} />
          <Fact label="Lecture seule" value={d.readOnly} render={(v) => (v.enabled ? `ACTIVÉE depuis le ${formatDateTime(v.since)} par ${v.by ?? '?'} — ${v.reason ?? ''}` : 'désactivée')} />
          <Fact label="Certificat TLS" value={d.tls} render={(v) => (v ? `expire le ${formatDateTime(v.notAfter)} (${v.daysLeft} jours)${v.daysLeft <= 14 ? ' — À RENOUVELER' : ''}` : 'aucun à surveiller')} />
          <Fact
            label="Sauvegardes"
            value={d.backups}
            render={(v) =>
              !v.available
                ? 'non disponible'
                : v.targets.length === 0
                  ? 'AUCUNE CIBLE CONFIGURÉE'
                  : v.targets.map((x) => `${x.target} : ${formatDateTime(x.lastBackupAt)} (${okText(x.lastBackupOk)}), exercice ${formatDateTime(x.lastDrillAt)} (${okText(x.lastDrillOk)})`).join(' ; ')
            }
          />
          <Fact
            label="Agents"
            value={d.agents}
            render={(v) => (!v.available ? 'non disponible' : `${v.online} en ligne sur ${v.total}${v.late.length ? ` ; en retard : ${v.late.map((a) => a.pharmacyName).join(', ')}` : ''}`)}
          />
        </dl>
      )}
    </>
  );
}

/** `GET /api/admin/backups` (backup module's BackupStatus). */
interface BackupRecord {
  id: string;
  startedAt: string;
  finishedAt: string;
  status: 'verified' | 'partial' | 'failed';
  sizeBytes: number | null;
  targets: { target: string; verified: boolean; error?: string }[];
  error: string | null;
}
interface DrillReport {
  id: string;
  backupId: string | null;
  finishedAt: string;
  host: string;
  ok: boolean;
  error: string | null;
  restoreErrors: string[];
}
interface BackupStatus {
  lastVerifiedBackup: BackupRecord | null;
  recent: BackupRecord[];
  drill: { report: DrillReport | null; lastSuccess: DrillReport | null; source: string | null; trusted: boolean };
  alerts: { code: string; message: string }[];
}

const BACKUP_STATUS: Record<string, string> = { verified: 'vérifiée', partial: 'partielle (une cible en échec)', failed: 'ÉCHEC' };

function size(bytes: number | null): string {
  if (bytes === null) return '—';
  const units = ['o', 'Ko', 'Mo', 'Go', 'To'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toLocaleString('fr-FR', { maximumFractionDigits: 1 })} ${units[i]}`;
}

/** Backups and restore drills: journal, last verified backup, newest signed drill report, alerts. */
export function BackupsPage() {
  const st = useApi((s) => get<BackupStatus>('/api/admin/backups', undefined, s), []);
  const d = st.data;
  return (
    <>
      <h1>Sauvegardes et exercices de restauration</h1>
      <p>
        Les sauvegardes chiffrées partent chaque nuit vers le NAS du groupement et le stockage objet ; un exercice de restauration mensuel, sur une machine isolée, prouve qu’elles se restaurent. Pour en lancer une à
        la main : <code>appliance backup run</code>.
      </p>
      <ErrorNotice error={st.error} />
      {st.loading && <Loading />}
      {d && (
        <>
          {d.alerts.length > 0 && (
            <div class="notice notice-error" role="alert" data-testid="backup-alerts">
              <ul>
                {d.alerts.map((a) => (
                  <li key={a.code}>{a.message}</li>
                ))}
              </ul>
            </div>
          )}
          <dl class="facts" data-testid="backup-facts">
            <dt>Dernière sauvegarde vérifiée</dt>
            <dd>{d.lastVerifiedBackup ? `${formatDateTime(d.lastVerifiedBackup.finishedAt)} (${size(d.lastVerifiedBackup.sizeBytes)})` : 'aucune'}</dd>
            <dt>Dernier exercice de restauration</dt>
            <dd data-testid="drill-latest">
              {d.drill.report
                ? `${formatDateTime(d.drill.report.finishedAt)} sur ${d.drill.report.host}, rapport signé lu sur la cible ${d.drill.source ?? '?'} — ${d.drill.report.ok ? 'réussi' : `ÉCHEC${d.drill.report.error ? ` : ${d.drill.report.error}` : ''}`}`
                : d.drill.trusted
                  ? 'aucun rapport reçu'
                  : 'clé publique de l’hôte d’exercice non configurée'}
            </dd>
            <dt>Dernier exercice réussi</dt>
            <dd data-testid="drill-last-success">{d.drill.lastSuccess ? formatDateTime(d.drill.lastSuccess.finishedAt) : 'aucun'}</dd>
          </dl>
          <div class="table-scroll">
            <table data-testid="backups-table">
              <caption>Sauvegardes récentes</caption>
              <thead>
                <tr>
                  <th scope="col">Terminée le</th>
                  <th scope="col">Résultat</th>
                  <th scope="col" class="num">Taille</th>
                  <th scope="col">Cibles</th>
                </tr>
              </thead>
              <tbody>
                {d.recent.length === 0 && (
                  <tr>
                    <td colSpan={4} class="empty">
                      Aucune sauvegarde enregistrée.
                    </td>
                  </tr>
                )}
                {d.recent.map((b) => (
                  <tr key={b.id}>
                    <td>{formatDateTime(b.finishedAt)}</td>
                    <td>
                      {BACKUP_STATUS[b.status] ?? b.status}
                      {b.error ? ` : ${b.error}` : ''}
                    </td>
                    <td class="num">{size(b.sizeBytes)}</td>
                    <td>{b.targets.map((t) => `${t.target} ${t.verified ? '✓ vérifiée' : `✗ ${t.error ?? 'échec'}`}`).join(' ; ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}

/** The read-only kill switch (ops: GET/POST /api/admin/read-only), with its mandatory reason. */
export function ReadOnlyPage() {
  const [version, setVersion] = useState(0);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const st = useApi((s) => get<{ enabled: boolean; reason?: string | null; since?: string | null; by?: string | null }>('/api/admin/read-only', undefined, s), [version]);
  const toggle = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const enable = !st.data?.enabled;
      await post('/api/admin/read-only', enable ? { enabled: true, reason } : { enabled: false });
      announce(enable ? 'Lecture seule activée.' : 'Lecture seule désactivée.');
      setReason('');
      setVersion((v) => v + 1);
      dispatchEvent(new Event('officine:read-only-changed'));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h1>Mode lecture seule</h1>
      <p>En lecture seule, la consultation reste possible mais toute modification est refusée (les agents gardent leurs envois en attente). À utiliser pendant une maintenance ou un incident.</p>
      <ErrorNotice error={error ?? st.error} />
      {st.data && (
        <form onSubmit={toggle}>
          <p data-testid="read-only-state">
            État actuel : <strong>{st.data.enabled ? 'activé' : 'désactivé'}</strong>
            {st.data.enabled && st.data.since ? ` depuis le ${formatDateTime(st.data.since)}` : ''}
            {st.data.enabled && st.data.reason ? ` — motif : ${st.data.reason}` : ''}
          </p>
          {!st.data.enabled && <Field label="Motif (obligatoire, visible dans le journal d’audit)" value={reason} onInput={setReason} required minLength={3} />}
          <button class="button" type="submit">
            {st.data.enabled ? 'Désactiver la lecture seule' : 'Activer la lecture seule'}
          </button>
        </form>
      )}
    </>
  );
}

/** An audit entry as the browser receives it (dates as ISO strings). */
type AuditRow = Wire<AuditLogEntry>;

const LEVELS: Record<string, string> = { info: 'Information', warning: 'Avertissement', alert: 'ALERTE' };
const PAGE = 50;

/** The audit log with its hash-chain verification (audit: GET /api/admin/audit, POST /api/admin/audit/verify). */
export function AuditPage() {
  const [check, setCheck] = useState<AuditVerification | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [entries, setEntries] = useState<AuditRow[]>([]);
  const [done, setDone] = useState(false);
  const [action, setAction] = useState('');
  const [filter, setFilter] = useState('');
  const first = useApi(
    (s) =>
      get<Wire<AuditLogPage>>('/api/admin/audit', { limit: PAGE, action: filter || undefined }, s).then((r) => {
        setEntries(r.entries);
        setDone(r.entries.length < PAGE);
        return r;
      }),
    [filter],
  );
  const more = async () => {
    setError(null);
    try {
      const last = entries[entries.length - 1];
      const r = await get<Wire<AuditLogPage>>('/api/admin/audit', { limit: PAGE, before: last?.id, action: filter || undefined });
      setEntries([...entries, ...r.entries]);
      setDone(r.entries.length < PAGE);
      announce(`${r.entries.length} entrées de plus.`);
    } catch (e) {
      setError(e);
    }
  };
  const verify = async () => {
    setError(null);
    try {
      const r = await post<AuditVerification>('/api/admin/audit/verify');
      setCheck(r);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <h1>Journal d’audit</h1>
      <p>Chaque entrée est chaînée à la précédente par une empreinte : toute modification ou suppression est détectable.</p>
      <ErrorNotice error={error ?? first.error} />
      <p>
        <button class="button" type="button" onClick={verify}>
          Vérifier la chaîne
        </button>
      </p>
      {check &&
        (check.ok ? (
          <InfoNotice>
            <span data-testid="audit-chain-ok">Chaîne intacte : {check.rows} entrées vérifiées.</span>
          </InfoNotice>
        ) : (
          <div class="notice notice-error" role="alert" data-testid="audit-chain-broken">
            <p>Journal ALTÉRÉ : {check.problems.length} problème(s) sur {check.rows} entrées. Prévenez le responsable sécurité.</p>
            <ul>
              {check.problems.map((p) => (
                <li key={`${p.id}-${p.kind}`}>
                  Entrée {p.id} : {p.kind === 'modified' ? 'modifiée après écriture' : 'chaînage rompu (entrée précédente supprimée ou réécrite)'}
                </li>
              ))}
            </ul>
          </div>
        ))}
      <form
        class="table-tools"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(action.trim());
        }}
      >
        <label for="audit-action">Type d’action commençant par</label>
        <input id="audit-action" type="search" value={action} placeholder="auth.login" onInput={(e) => setAction((e.target as HTMLInputElement).value)} />
        <button class="button-secondary" type="submit">
          Filtrer
        </button>
      </form>
      <div class="table-scroll">
        <table data-testid="audit-table">
          <caption>Entrées du journal, les plus récentes d’abord</caption>
          <thead>
            <tr>
              <th scope="col">N°</th>
              <th scope="col">Date</th>
              <th scope="col">Action</th>
              <th scope="col">Niveau</th>
              <th scope="col">Rôle de l’auteur</th>
              <th scope="col">Cible</th>
              <th scope="col">Adresse IP</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td class="num">{e.id}</td>
                <td>{formatDateTime(e.createdAt)}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>{LEVELS[e.level] ?? e.level}</td>
                <td>{e.actorRole ?? 'console / système'}</td>
                <td>{e.targetType ? `${e.targetType} ${e.targetId ?? ''}` : '—'}</td>
                <td>{e.ip ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {first.loading && <Loading />}
      {!done && entries.length > 0 && (
        <p>
          <button class="button-secondary" type="button" onClick={more}>
            Entrées plus anciennes
          </button>
        </p>
      )}
    </>
  );
}

/** A verified bundle waiting to be applied (`POST /api/admin/upgrades`). */
interface StagedUpgrade {
  id: string;
  version: string;
  currentVersion: string;
  expiresAt: string | null;
  files: number;
}

const UPGRADE_STEPS: Record<string, string> = {
  'upgrade.verified': 'Archive vérifiée',
  'upgrade.apply_requested': 'Application demandée',
  'upgrade.backup': 'Sauvegarde avant mise à jour',
  'upgrade.stopped': 'Services arrêtés',
  'upgrade.migrated': 'Base migrée',
  'upgrade.switched': 'Nouvelle version activée',
  'upgrade.applied': 'Mise à jour réussie',
  'upgrade.rolled_back': 'Retour automatique à la version précédente',
  'upgrade.failed': 'Échec',
  'upgrade.refused': 'Archive refusée',
};

const DETAIL_LABELS: Record<string, string> = { from: 'depuis', to: 'vers', version: 'version', reason: 'motif :', step: 'étape :', error: 'erreur :' };

/**
 * Upgrades: upload a signed bundle, which the server verifies (pinned keys, expiry,
 * version order, every file's hash), ask for it to be applied, and follow the
 * history from the audit log (`upgrade.*` entries written by every step).
 */
export function UpgradesPage() {
  const [file, setFile] = useState<File | null>(null);
  const [staged, setStaged] = useState<StagedUpgrade | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  const history = useApi((s) => get<{ entries: AuditRow[] }>('/api/admin/audit', { action: 'upgrade.', limit: 100 }, s), [version]);
  const upload = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setError(null);
    setInfo(null);
    setBusy(true);
    try {
      setStaged(await api<StagedUpgrade>('POST', '/api/admin/upgrades', { raw: file }));
    } catch (err) {
      setStaged(null);
      setError(err);
    } finally {
      setBusy(false);
      setVersion((v) => v + 1);
    }
  };
  const apply = async () => {
    if (!staged) return;
    setError(null);
    try {
      const r = await post<{ message: string }>(`/api/admin/upgrades/${encodeURIComponent(staged.id)}/apply`);
      setInfo(r.message);
      announce(r.message);
      setStaged(null);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h1>Mises à jour</h1>
      <p>
        Seules les archives signées par l’éditeur avec une clé épinglée sur cette appliance, plus récentes que la version installée et non expirées sont acceptées. Avant d’appliquer, l’appliance fait une sauvegarde ;
        si la nouvelle version ne répond pas correctement, elle revient d’elle-même à la précédente.
      </p>
      <ErrorNotice error={error} />
      {info && <InfoNotice>{info}</InfoNotice>}
      <form onSubmit={upload} class="inline-form">
        <div class="field">
          <label for="bundle">Archive de mise à jour</label>
          <input id="bundle" type="file" accept=".tar,.tar.gz,.tgz,application/x-tar,application/gzip" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        </div>
        <button class="button" type="submit" disabled={!file || busy}>
          {busy ? 'Vérification…' : 'Téléverser et vérifier'}
        </button>
      </form>
      {staged && (
        <section aria-labelledby="staged-title" data-testid="upgrade-staged">
          <h2 id="staged-title">Version {staged.version} prête</h2>
          <InfoNotice>
            Signature, manifeste et {staged.files} fichiers vérifiés. Version installée : {staged.currentVersion}.{staged.expiresAt ? ` Archive valable jusqu’au ${formatDateTime(staged.expiresAt)}.` : ''}
          </InfoNotice>
          <button class="button" type="button" onClick={apply}>
            Appliquer la version {staged.version}
          </button>
        </section>
      )}
      <section aria-labelledby="history-title">
        <h2 id="history-title">Historique</h2>
        <ErrorNotice error={history.error} />
        {history.data && (
          <div class="table-scroll">
            <table data-testid="upgrades-history">
              <caption>Étapes des mises à jour, les plus récentes d’abord</caption>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Étape</th>
                  <th scope="col">Détail</th>
                </tr>
              </thead>
              <tbody>
                {history.data.entries.length === 0 && (
                  <tr>
                    <td colSpan={3} class="empty">
                      Aucune mise à jour pour l’instant.
                    </td>
                  </tr>
                )}
                {history.data.entries.map((e) => (
                  <tr key={e.id}>
                    <td>{formatDateTime(e.createdAt)}</td>
                    <td>{UPGRADE_STEPS[e.action] ?? e.action}</td>
                    <td>
                      {Object.entries(DETAIL_LABELS)
                        .filter(([k]) => e.details?.[k] !== undefined)
                        .map(([k, label]) => `${label} ${String(e.details[k])}`)
                        .join(', ') || '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

interface BreakGlassRow {
  id: string;
  pharmacyId: string;
  operatorName: string;
  reason: string;
  openedAt: string;
  expiresAt: string;
  closedAt: string | null;
  active: boolean;
}

/**
 * Break-glass for the operator (tenancy: /api/admin/break-glass): a written reason
 * and a duration of at most 4 hours; the pharmacy's admins are told by email and
 * see it in their administration page; every request under it is audited.
 */
export function BreakGlassPage() {
  const [version, setVersion] = useState(0);
  const [pharmacyId, setPharmacyId] = useState('');
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState('60');
  const [error, setError] = useState<unknown>(null);
  const list = useApi((s) => get<{ breakGlass: BreakGlassRow[] }>('/api/admin/break-glass', undefined, s), [version]);
  const open = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await post('/api/admin/break-glass', { pharmacyId: pharmacyId.trim(), reason, durationMinutes: Number(minutes) });
      announce('Accès d’urgence ouvert. La pharmacie en est avertie.');
      setReason('');
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  const close = async (id: string) => {
    setError(null);
    try {
      await api('DELETE', `/api/admin/break-glass/${id}`);
      announce('Accès d’urgence fermé.');
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h1>Accès d’urgence</h1>
      <p>Réservé aux incidents : l’accès aux données d’une pharmacie est justifié, limité à 4 heures, journalisé et signalé à ses titulaires.</p>
      <ErrorNotice error={error ?? list.error} />
      <form onSubmit={open} class="inline-form">
        <Field label="Identifiant de la pharmacie" value={pharmacyId} onInput={setPharmacyId} required />
        <Field label="Motif (au moins 20 caractères, visible par la pharmacie)" value={reason} onInput={setReason} required minLength={20} />
        <div class="field">
          <label for="bg-minutes">Durée</label>
          <select id="bg-minutes" value={minutes} onChange={(e) => setMinutes((e.target as HTMLSelectElement).value)}>
            <option value="15">15 minutes</option>
            <option value="60">1 heure</option>
            <option value="120">2 heures</option>
            <option value="240">4 heures</option>
          </select>
        </div>
        <button class="button" type="submit">
          Ouvrir l’accès d’urgence
        </button>
      </form>
      {list.data && (
        <ul class="card-list" data-testid="break-glass-list">
          {list.data.breakGlass.length === 0 && <li>Aucun accès d’urgence.</li>}
          {list.data.breakGlass.map((b) => (
            <li key={b.id} class={b.active ? 'card card-warning' : 'card'}>
              <p>
                <strong>{b.active ? 'En cours' : 'Terminé'}</strong> — pharmacie {b.pharmacyId}, du {formatDateTime(b.openedAt)} au {formatDateTime(b.closedAt ?? b.expiresAt)}
              </p>
              <p>Motif : {b.reason}</p>
              {b.active && (
                <p>
                  <a href={`/app/pharmacies/${b.pharmacyId}/tableau-de-bord`}>Consulter la pharmacie</a>{' '}
                  <button type="button" class="button-secondary" onClick={() => close(b.id)}>
                    Fermer maintenant
                  </button>
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
