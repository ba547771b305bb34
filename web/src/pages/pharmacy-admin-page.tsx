import { PharmacyName, type PharmacyInfo } from '../components/pharmacy-gate';
import { useState } from 'preact/hooks';
import { del, get, post, put } from '../api/client';
import { currentAccount, ROLE_LABELS, type Role } from '../api/session';
import { announce } from '../components/announce';
import { clientSide, DataTable } from '../components/data-table';
import { Field } from '../components/field';
import { ErrorNotice, InfoNotice } from '../components/notice';
import { defaultPeriod } from '../components/period-picker';
import { useApi } from '../components/use-api';
import { formatDateTime, formatInteger } from '../format';

interface UserRow {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  status: string;
  totpEnabled: boolean;
  createdAt: string;
}
interface GrantRow {
  id: string;
  granteeUserId: string;
  granteeName: string;
  permission: 'aggregates' | 'details';
  grantedAt: string;
}
interface BreakGlassRow {
  id: string;
  operatorName: string;
  reason: string;
  openedAt: string;
  expiresAt: string;
  closedAt: string | null;
  active: boolean;
}
/** What one sync read, sent and withheld per table (agent protocol: syncSummarySchema). */
interface SyncSummary {
  profile: string;
  startedAt: string;
  finishedAt: string;
  tables: { entity: string; source: string; columns: string[]; read: number; sent: number; withheld: Record<string, number>; refused?: string }[];
  /** Batches the agent parked after repeated refusals by the appliance (dead letters). */
  parked?: { batchId: string; entity: string | null; rows: number; code: string; reason: string; parkedAt: string }[];
}
/** An agent as `GET /api/pharmacies/:id/agents` lists it. */
interface AgentRow {
  id: string;
  hostname: string | null;
  agentVersion: string | null;
  status: string;
  createdAt: string;
  revokedAt: string | null;
  lastSeenAt: string | null;
  lastSummary: SyncSummary | null;
  lastSummaryAt: string | null;
}

/** Why the agent kept a line back (agent/src/model/value-scanner.ts WithheldReason). */
const WITHHELD_REASONS: Record<string, string> = {
  nir: 'numéro de sécurité sociale détecté',
  email: 'adresse e-mail détectée',
  phone: 'numéro de téléphone détecté',
  date_of_birth: 'date de naissance détectée',
  invalid_value: 'valeur invalide',
};

const STATUS_LABELS: Record<string, string> = { pending: 'En attente d’activation', active: 'Actif', disabled: 'Désactivé', revoked: 'Révoqué', online: 'En ligne', late: 'En retard', never: 'Jamais connecté' };
const GRANT_LABELS = { aggregates: 'Chiffres agrégés seulement', details: 'Chiffres agrégés et données détaillées' };

/**
 * Pharmacy administration for the titulaire: colleagues (invite, disable), agents
 * (enrolment code, status, last sync, what was sent and withheld), permissions
 * granted to the groupement (grant, revoke) and break-glass accesses by operators.
 */
export function PharmacyAdminPage({ info, pharmacyId }: { info: PharmacyInfo; pharmacyId: string }) {
  const base = `/api/pharmacies/${encodeURIComponent(pharmacyId)}`;
  return (
    <>
      <h1>Administration de la pharmacie</h1>
      <PharmacyName info={info} />
      <UsersSection base={base} />
      <AgentsSection base={base} />
      <ConsentSection pharmacyId={pharmacyId} />
      <GrantsSection base={base} />
      <BreakGlassSection base={base} />
      <section aria-labelledby="register-title">
        <h2 id="register-title">Protection des données</h2>
        <p>
          Le registre des traitements et des sous-traitants de l’appliance :{' '}
          <a href={`${base}/gdpr/register?format=csv`} download>
            télécharger (CSV)
          </a>
          .
        </p>
      </section>
    </>
  );
}

function UsersSection({ base }: { base: string }) {
  const [version, setVersion] = useState(0);
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<'user' | 'pharmacy_admin'>('user');
  const [error, setError] = useState<unknown>(null);
  const [info, setInfo] = useState<string | null>(null);
  const invite = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setInfo(null);
    try {
      await post(`${base}/users`, { email, displayName: name, role });
      setInfo(`Invitation envoyée à ${email}.`);
      setEmail('');
      setName('');
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  const disable = async (u: UserRow) => {
    setError(null);
    if (!window.confirm(`Désactiver le compte de ${u.displayName} ? Ses sessions seront fermées.`)) return;
    try {
      await post(`${base}/users/${u.id}/disable`);
      announce(`Compte de ${u.displayName} désactivé.`);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  const changeRole = async (u: UserRow) => {
    setError(null);
    const next = u.role === 'pharmacy_admin' ? 'user' : 'pharmacy_admin';
    const question =
      next === 'pharmacy_admin'
        ? `Donner à ${u.displayName} le rôle « ${ROLE_LABELS.pharmacy_admin} » ? Ses sessions seront fermées ; à sa prochaine connexion, la double authentification lui sera demandée.`
        : `Retirer à ${u.displayName} le rôle « ${ROLE_LABELS.pharmacy_admin} » ? Ses sessions seront fermées.`;
    if (!window.confirm(question)) return;
    try {
      await post(`${base}/users/${u.id}/role`, { role: next });
      announce(`Rôle de ${u.displayName} : ${ROLE_LABELS[next]}.`);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Utilisateurs</h2>
      <ErrorNotice error={error} />
      {info && <InfoNotice>{info}</InfoNotice>}
      <DataTable<UserRow>
        caption="Comptes de la pharmacie"
        testId="users-table"
        deps={[version]}
        rowKey={(r) => r.id}
        load={async (q, signal) => clientSide((await get<{ users: UserRow[] }>(`${base}/users`, undefined, signal)).users, ['displayName', 'email'])(q)}
        columns={[
          { key: 'displayName', label: 'Nom', sortable: true },
          { key: 'email', label: 'E-mail', sortable: true },
          { key: 'role', label: 'Rôle', sortable: true, render: (r) => ROLE_LABELS[r.role] ?? r.role },
          { key: 'status', label: 'État', sortable: true, render: (r) => STATUS_LABELS[r.status] ?? r.status },
          { key: 'totpEnabled', label: 'Double authentification', render: (r) => (r.totpEnabled ? 'Activée' : 'Non activée') },
          {
            key: 'actions',
            label: 'Actions',
            render: (r) =>
              r.status === 'disabled' || r.id === currentAccount()?.id ? (
                '—'
              ) : (
                <>
                  <button type="button" class="button-secondary" onClick={() => changeRole(r)} aria-label={`${r.role === 'pharmacy_admin' ? 'Retirer le rôle administrateur à' : 'Donner le rôle administrateur à'} ${r.displayName}`}>
                    {r.role === 'pharmacy_admin' ? 'Retirer le rôle admin' : 'Rendre admin'}
                  </button>{' '}
                  <button type="button" class="button-secondary" onClick={() => disable(r)} aria-label={`Désactiver ${r.displayName}`}>
                    Désactiver
                  </button>
                </>
              ),
          },
        ]}
      />
      <form onSubmit={invite} class="inline-form">
        <h3>Inviter un collègue</h3>
        <Field label="Nom affiché" value={name} onInput={setName} required />
        <Field label="Adresse e-mail" type="email" value={email} onInput={setEmail} required autoComplete="off" />
        <div class="field">
          <label for="invite-role">Rôle</label>
          <select id="invite-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as 'user' | 'pharmacy_admin')}>
            <option value="user">{ROLE_LABELS.user}</option>
            <option value="pharmacy_admin">{ROLE_LABELS.pharmacy_admin}</option>
          </select>
        </div>
        <button class="button" type="submit">
          Envoyer l’invitation
        </button>
      </form>
    </section>
  );
}

function AgentsSection({ base }: { base: string }) {
  const [code, setCode] = useState<{ code: string; expiresAt: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  const agents = useApi((s) => get<{ agents: AgentRow[] }>(`${base}/agents`, undefined, s), [base, version]);
  const newCode = async () => {
    setError(null);
    try {
      setCode(await post<{ code: string; expiresAt: string }>(`${base}/agents/enrolment-codes`));
    } catch (err) {
      setError(err);
    }
  };
  const revoke = async (a: AgentRow) => {
    setError(null);
    if (!window.confirm(`Révoquer l’agent ${a.hostname ?? a.id} ? Il ne pourra plus rien envoyer.`)) return;
    try {
      await post(`${base}/agents/${a.id}/revoke`);
      announce('Agent révoqué.');
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="agents-title">
      <h2 id="agents-title">Agents de la pharmacie</h2>
      <p>L’agent installé à côté du logiciel de la pharmacie (LGO) n’envoie que des données commerciales, jamais de données patient. Le résumé ci-dessous dit ce qu’il a lu, envoyé et retenu.</p>
      <ErrorNotice error={error ?? agents.error} />
      {agents.data && (
        <ul class="card-list" data-testid="agents">
          {agents.data.agents.length === 0 && <li>Aucun agent enrôlé.</li>}
          {agents.data.agents.map((a) => (
            <li key={a.id} class={a.status === 'revoked' ? 'card' : 'card'}>
              <h3>
                {a.hostname ?? 'Agent'} {a.agentVersion ? `(version ${a.agentVersion})` : ''}
              </h3>
              <p>
                État : {STATUS_LABELS[a.status] ?? a.status} — dernier contact : {formatDateTime(a.lastSeenAt)}
                {a.lastSummaryAt ? ` — dernière synchronisation : ${formatDateTime(a.lastSummaryAt)}` : ''}
              </p>
              {a.lastSummary && (
                <table>
                  <caption>Dernière synchronisation (profil {a.lastSummary.profile})</caption>
                  <thead>
                    <tr>
                      <th scope="col">Données</th>
                      <th scope="col" class="num">Lues</th>
                      <th scope="col" class="num">Envoyées</th>
                      <th scope="col">Retenues (jamais envoyées)</th>
                    </tr>
                  </thead>
                  <tbody>
                    {a.lastSummary.tables.map((tb) => (
                      <tr key={tb.entity}>
                        <th scope="row">{tb.entity}</th>
                        <td class="num">{formatInteger(tb.read)}</td>
                        <td class="num">{formatInteger(tb.sent)}</td>
                        <td>
                          {tb.refused
                            ? `table refusée : ${tb.refused}`
                            : Object.keys(tb.withheld).length === 0
                              ? 'aucune'
                              : Object.entries(tb.withheld)
                                  .map(([k, v]) => `${formatInteger(v)} (${WITHHELD_REASONS[k] ?? k})`)
                                  .join(', ')}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {a.lastSummary?.parked && a.lastSummary.parked.length > 0 && (
                <div data-testid="agent-parked">
                  <p>
                    <strong>{formatInteger(a.lastSummary.parked.length)} lot(s) refusé(s) par l’appliance</strong>, mis de côté par l’agent (rien n’est perdu : une fois la cause
                    corrigée, « officine-agent requeue » sur le poste les renvoie) :
                  </p>
                  <ul>
                    {a.lastSummary.parked.map((d) => (
                      <li key={d.batchId}>
                        {d.entity ?? 'données'} — {formatInteger(d.rows)} ligne(s), le {formatDateTime(d.parkedAt)} : {d.reason}
                      </li>
                    ))}
                  </ul>
                </div>
              )}
              {a.status !== 'revoked' && (
                <p>
                  <button type="button" class="button-secondary" onClick={() => revoke(a)}>
                    Révoquer cet agent
                  </button>
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
      {code ? (
        <InfoNotice>
          Code d’enrôlement : <code data-testid="enrolment-code">{code.code}</code> (valable jusqu’au {formatDateTime(code.expiresAt)}, une seule fois). Saisissez-le dans l’agent.
        </InfoNotice>
      ) : (
        <button type="button" class="button" onClick={newCode}>
          Créer un code d’enrôlement
        </button>
      )}
    </section>
  );
}

/** Taking part in the groupement benchmark (the pharmacy's consent, withdrawable at any time). */
function ConsentSection({ pharmacyId }: { pharmacyId: string }) {
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const url = `/api/pharmacies/${encodeURIComponent(pharmacyId)}/analytics`;
  const period = defaultPeriod();
  const state = useApi((s) => get<{ granted: boolean }>(`${url}/benchmark`, { ...period }, s), [pharmacyId, version]);
  const toggle = async () => {
    setError(null);
    try {
      const granted = !state.data?.granted;
      await put(`${url}/benchmark-consent`, { granted });
      announce(granted ? 'Votre pharmacie participe au comparatif.' : 'Votre pharmacie ne participe plus au comparatif.');
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="consent-title">
      <h2 id="consent-title">Comparatif du groupement</h2>
      <p>
        En participant, vos indicateurs entrent, sans votre nom, dans les quartiles du groupement, et vous voyez votre position. Votre nom et vos chiffres ne sont montrés qu’aux administrateurs du groupement à qui
        vous accordez l’accès au détail ci-dessous.
      </p>
      <ErrorNotice error={error ?? state.error} />
      {state.data && (
        <p data-testid="consent-state">
          Participation : <strong>{state.data.granted ? 'oui' : 'non'}</strong>{' '}
          <button type="button" class="button-secondary" onClick={toggle}>
            {state.data.granted ? 'Ne plus participer' : 'Participer au comparatif'}
          </button>
        </p>
      )}
    </section>
  );
}

function GrantsSection({ base }: { base: string }) {
  const [version, setVersion] = useState(0);
  const [grantee, setGrantee] = useState('');
  const [permission, setPermission] = useState<'aggregates' | 'details'>('aggregates');
  const [error, setError] = useState<unknown>(null);
  const admins = useApi((s) => get<{ groupAdmins: { id: string; displayName: string }[] }>(`${base}/group-admins`, undefined, s), [base]);
  const grant = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await post(`${base}/grants`, { granteeUserId: grantee, permission });
      announce('Accès accordé.');
      setGrantee('');
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  const revoke = async (g: GrantRow) => {
    setError(null);
    try {
      await del(`${base}/grants/${g.id}`);
      announce(`Accès de ${g.granteeName} retiré.`);
      setVersion((v) => v + 1);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="grants-title">
      <h2 id="grants-title">Accès accordés au groupement</h2>
      <p>Sans accord de votre part, le groupement ne voit aucun chiffre de votre pharmacie.</p>
      <ErrorNotice error={error} />
      <DataTable<GrantRow>
        caption="Accès en cours"
        testId="grants-table"
        deps={[version]}
        rowKey={(r) => r.id}
        load={async (q, signal) => clientSide((await get<{ grants: GrantRow[] }>(`${base}/grants`, undefined, signal)).grants, ['granteeName'])(q)}
        columns={[
          { key: 'granteeName', label: 'Administrateur du groupement', sortable: true },
          { key: 'permission', label: 'Portée', render: (r) => GRANT_LABELS[r.permission] ?? r.permission },
          { key: 'grantedAt', label: 'Depuis le', kind: 'datetime', sortable: true },
          {
            key: 'actions',
            label: 'Action',
            render: (r) => (
              <button type="button" class="button-secondary" onClick={() => revoke(r)} aria-label={`Retirer l’accès de ${r.granteeName}`}>
                Retirer
              </button>
            ),
          },
        ]}
      />
      <form onSubmit={grant} class="inline-form">
        <h3>Accorder un accès</h3>
        <div class="field">
          <label for="grant-grantee">Administrateur du groupement</label>
          <select id="grant-grantee" value={grantee} required onChange={(e) => setGrantee((e.target as HTMLSelectElement).value)}>
            <option value="">{admins.data && admins.data.groupAdmins.length === 0 ? 'Aucun administrateur actif dans votre groupement' : '— choisir —'}</option>
            {admins.data?.groupAdmins.map((a) => (
              <option key={a.id} value={a.id}>
                {a.displayName}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="grant-permission">Portée</label>
          <select id="grant-permission" value={permission} onChange={(e) => setPermission((e.target as HTMLSelectElement).value as 'aggregates' | 'details')}>
            <option value="aggregates">{GRANT_LABELS.aggregates}</option>
            <option value="details">{GRANT_LABELS.details}</option>
          </select>
        </div>
        <button class="button" type="submit">
          Accorder
        </button>
      </form>
    </section>
  );
}

function BreakGlassSection({ base }: { base: string }) {
  const list = useApi((s) => get<{ breakGlass: BreakGlassRow[] }>(`${base}/break-glass`, undefined, s), [base]);
  return (
    <section aria-labelledby="bg-title">
      <h2 id="bg-title">Accès d’urgence des opérateurs</h2>
      <p>Un opérateur de l’appliance ne peut consulter vos données que par un accès d’urgence justifié, limité dans le temps et journalisé. Vous en êtes averti ici et par e-mail.</p>
      <ErrorNotice error={list.error} />
      {list.data && (
        <ul class="card-list" data-testid="break-glass">
          {list.data.breakGlass.length === 0 && <li>Aucun accès d’urgence n’a été ouvert.</li>}
          {list.data.breakGlass.map((b) => (
            <li key={b.id} class={b.active ? 'card card-warning' : 'card'}>
              <p>
                <strong>{b.active ? 'En cours' : 'Terminé'}</strong> — {b.operatorName}, du {formatDateTime(b.openedAt)} au {formatDateTime(b.closedAt ?? b.expiresAt)}
              </p>
              <p>Motif : {b.reason}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
