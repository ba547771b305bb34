import { useState } from 'preact/hooks';
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

type Json = Record<string, unknown>;

const okText = (ok: unknown) => (ok === true ? 'OK' : ok === false ? 'ÉCHEC' : '—');

/** Appliance status (ops: GET /api/admin/status). */
export function StatusPage() {
  const st = useApi((s) => get<Json>('/api/admin/status', undefined, s), []);
  const d = st.data as
    | {
        version?: string;
        generatedAt?: string;
        postgres?: { ok: boolean; version?: string };
        readOnly?: { enabled: boolean; reason?: string };
        backups?: { available: boolean; targets?: { target: string; lastBackupAt: string | null; lastBackupOk: boolean | null; lastDrillAt: string | null; lastDrillOk: boolean | null }[] };
        agents?: { available: boolean; online?: number; total?: number };
        tls?: { daysLeft: number; notAfter: string } | null;
      }
    | undefined;
  return (
    <>
      <h1>État de l’appliance</h1>
      <ErrorNotice error={st.error} />
      {st.loading && <Loading />}
      {d && (
        <dl class="facts" data-testid="status">
          <dt>Version</dt>
          <dd>{d.version ?? '—'}</dd>
          <dt>État au</dt>
          <dd>{formatDateTime(d.generatedAt)}</dd>
          <dt>PostgreSQL</dt>
          <dd>{d.postgres ? `${okText(d.postgres.ok)}${d.postgres.version ? ` (version ${d.postgres.version})` : ''}` : '—'}</dd>
          <dt>Lecture seule</dt>
          <dd>{d.readOnly?.enabled ? `ACTIVÉE — ${d.readOnly.reason ?? ''}` : 'désactivée'}</dd>
          <dt>Certificat TLS</dt>
          <dd>{d.tls ? `expire le ${formatDateTime(d.tls.notAfter)} (${d.tls.daysLeft} jours)` : 'non surveillé'}</dd>
          <dt>Agents en ligne</dt>
          <dd>{d.agents?.available ? `${d.agents.online ?? 0} sur ${d.agents.total ?? 0}` : 'non disponible'}</dd>
          <dt>Sauvegardes</dt>
          <dd>
            {d.backups?.available
              ? (d.backups.targets ?? []).map((t) => `${t.target} : ${formatDateTime(t.lastBackupAt)} (${okText(t.lastBackupOk)}), exercice ${formatDateTime(t.lastDrillAt)} (${okText(t.lastDrillOk)})`).join(' ; ') || 'aucune cible'
              : 'non disponible'}
          </dd>
        </dl>
      )}
    </>
  );
}

interface BackupRow {
  id: string;
  startedAt: string;
  finishedAt: string | null;
  status: string;
  sizeBytes: number | null;
  targets?: string[];
  verifiedAt?: string | null;
}
interface DrillRow {
  id: string;
  backupId: string;
  ranAt: string;
  ok: boolean;
  summary?: string;
}

/** Backups and restore drills (backup: /api/admin/backups, /api/admin/drills). */
export function BackupsPage() {
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [info, setInfo] = useState<string | null>(null);
  const drills = useApi((s) => get<{ drills: DrillRow[] }>('/api/admin/drills', undefined, s), [version]);
  const run = async () => {
    setError(null);
    try {
      await post('/api/admin/backups');
      setInfo('Sauvegarde lancée. Elle apparaîtra dans la liste une fois terminée.');
      setVersion((v) => v + 1);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <h1>Sauvegardes et exercices de restauration</h1>
      <ErrorNotice error={error} />
      {info && <InfoNotice>{info}</InfoNotice>}
      <p>
        <button class="button" type="button" onClick={run}>
          Lancer une sauvegarde maintenant
        </button>
      </p>
      <DataTable<BackupRow>
        caption="Sauvegardes"
        testId="backups-table"
        deps={[version]}
        rowKey={(r) => r.id}
        load={(q, signal) => get('/api/admin/backups', { page: q.page, pageSize: q.pageSize }, signal)}
        columns={[
          { key: 'startedAt', label: 'Début', kind: 'datetime' },
          { key: 'finishedAt', label: 'Fin', kind: 'datetime' },
          { key: 'status', label: 'État' },
          { key: 'sizeBytes', label: 'Taille (octets)', kind: 'int' },
          { key: 'verifiedAt', label: 'Vérifiée le', kind: 'datetime' },
        ]}
      />
      <section aria-labelledby="drills-title">
        <h2 id="drills-title">Exercices de restauration</h2>
        <ErrorNotice error={drills.error} />
        {drills.data && (
          <ul class="card-list">
            {drills.data.drills.length === 0 && <li>Aucun exercice de restauration reçu.</li>}
            {drills.data.drills.map((d) => (
              <li key={d.id} class={d.ok ? 'card' : 'card card-warning'}>
                {formatDateTime(d.ranAt)} — {d.ok ? 'réussi' : 'ÉCHEC'}
                {d.summary ? ` : ${d.summary}` : ''}
              </li>
            ))}
          </ul>
        )}
      </section>
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
          {!st.data.enabled && <Field label="Motif (obligatoire, visible dans le journal d’audit)" value={reason} onInput={setReason} required minLength={5} />}
          <button class="button" type="submit">
            {st.data.enabled ? 'Désactiver la lecture seule' : 'Activer la lecture seule'}
          </button>
        </form>
      )}
    </>
  );
}

interface AuditRow {
  id: string;
  at: string;
  action: string;
  level?: string;
  actorUserId: string | null;
  actorRole: string | null;
  pharmacyId: string | null;
  ip?: string | null;
}

/** The audit log with its hash-chain verification (identity: /api/admin/audit, /api/admin/audit/verify). */
export function AuditPage() {
  const [check, setCheck] = useState<{ ok: boolean; checked: number; firstBadId?: string | null } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const verify = async () => {
    setError(null);
    try {
      const r = await post<{ ok: boolean; checked: number; firstBadId?: string | null }>('/api/admin/audit/verify');
      setCheck(r);
      announce(r.ok ? 'Chaîne du journal intacte.' : 'Chaîne du journal rompue.', r.ok ? 'polite' : 'assertive');
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <h1>Journal d’audit</h1>
      <p>Chaque entrée est chaînée à la précédente par une empreinte : toute modification ou suppression est détectable.</p>
      <ErrorNotice error={error} />
      <p>
        <button class="button" type="button" onClick={verify}>
          Vérifier la chaîne
        </button>
      </p>
      {check &&
        (check.ok ? (
          <InfoNotice>Chaîne intacte : {check.checked} entrées vérifiées.</InfoNotice>
        ) : (
          <div class="notice notice-error" role="alert">
            <p>Chaîne ROMPUE à l’entrée {check.firstBadId ?? '?'} : le journal a été altéré. Prévenez le responsable sécurité.</p>
          </div>
        ))}
      <DataTable<AuditRow>
        caption="Entrées du journal"
        testId="audit-table"
        rowKey={(r) => String(r.id)}
        pageSize={50}
        load={async (q, signal) => {
          const r = await get<{ entries: AuditRow[]; total?: number }>('/api/admin/audit', { page: q.page, limit: q.pageSize, q: q.q }, signal);
          return { rows: r.entries, total: r.total ?? r.entries.length };
        }}
        columns={[
          { key: 'at', label: 'Date', kind: 'datetime' },
          { key: 'action', label: 'Action' },
          { key: 'level', label: 'Niveau' },
          { key: 'actorRole', label: 'Rôle de l’auteur' },
          { key: 'pharmacyId', label: 'Pharmacie' },
          { key: 'ip', label: 'Adresse IP' },
        ]}
      />
    </>
  );
}

interface UpgradeRow {
  id: string;
  version: string;
  fromVersion?: string | null;
  status: string;
  at: string;
  message?: string | null;
}

/** Upgrades: upload a signed bundle, verify it, apply it, and the history (platform: /api/admin/upgrades). */
export function UpgradesPage() {
  const [file, setFile] = useState<File | null>(null);
  const [staged, setStaged] = useState<{ id: string; version: string; verified: boolean; problems?: string[] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const upload = async (e: Event) => {
    e.preventDefault();
    if (!file) return;
    setError(null);
    try {
      setStaged(await api<{ id: string; version: string; verified: boolean; problems?: string[] }>('POST', '/api/admin/upgrades', { raw: file }));
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  const apply = async () => {
    if (!staged) return;
    setError(null);
    try {
      await post(`/api/admin/upgrades/${staged.id}/apply`);
      announce('Mise à jour lancée : l’appliance redémarre et revient d’elle-même en arrière si le contrôle de santé échoue.');
      setStaged(null);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <h1>Mises à jour</h1>
      <p>Seules les archives signées par l’éditeur, plus récentes que la version installée et non expirées sont acceptées. Une sauvegarde est faite avant chaque mise à jour.</p>
      <ErrorNotice error={error} />
      <form onSubmit={upload} class="inline-form">
        <div class="field">
          <label for="bundle">Archive de mise à jour (.tar)</label>
          <input id="bundle" type="file" accept=".tar,.tar.gz,.tgz,application/x-tar" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
        </div>
        <button class="button" type="submit" disabled={!file}>
          Téléverser et vérifier
        </button>
      </form>
      {staged && (
        <section aria-labelledby="staged-title">
          <h2 id="staged-title">Version {staged.version}</h2>
          {staged.verified ? (
            <>
              <InfoNotice>Signature et contenu vérifiés.</InfoNotice>
              <button class="button" type="button" onClick={apply}>
                Appliquer la version {staged.version}
              </button>
            </>
          ) : (
            <div class="notice notice-error" role="alert">
              <p>Archive refusée :</p>
              <ul>{(staged.problems ?? []).map((p) => <li key={p}>{p}</li>)}</ul>
            </div>
          )}
        </section>
      )}
      <DataTable<UpgradeRow>
        caption="Historique des mises à jour"
        testId="upgrades-table"
        deps={[version]}
        rowKey={(r) => r.id}
        load={async (_q, signal) => {
          const r = await get<{ history: UpgradeRow[] }>('/api/admin/upgrades', undefined, signal);
          return { rows: r.history, total: r.history.length };
        }}
        columns={[
          { key: 'at', label: 'Date', kind: 'datetime' },
          { key: 'fromVersion', label: 'Depuis' },
          { key: 'version', label: 'Vers' },
          { key: 'status', label: 'Résultat' },
          { key: 'message', label: 'Détail' },
        ]}
      />
    </>
  );
}
