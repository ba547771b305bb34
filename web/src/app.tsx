import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { onUnauthenticated } from './api/client';
import { sessionEnded, useSession, type Account, type Role } from './api/session';
import { homeFor, Shell } from './components/shell';
import { Loading } from './components/notice';
import { PharmacyGate } from './components/pharmacy-gate';
import { ActivatePage, LoginPage, PasswordResetPage, TotpEnrolPage } from './pages/auth-pages';
import { BenchmarkPage } from './pages/benchmark-page';
import { DashboardPage } from './pages/dashboard-page';
import { DataPage } from './pages/data-page';
import { PharmacyAdminPage } from './pages/pharmacy-admin-page';
import { SessionsPage } from './pages/sessions-page';
import { AuditPage, BackupsPage, BreakGlassPage, ReadOnlyPage, StatusPage, UpgradesPage } from './pages/supervision-pages';
import { match, navigate, useLocation } from './router';

const PHARMACY_ROLES: Role[] = ['user', 'pharmacy_admin', 'group_admin', 'super_admin'];
const SUPER: Role[] = ['super_admin'];

/** One page: its path pattern, French title, who may open it, and what it renders. */
interface RouteDef {
  pattern: string;
  title: string;
  /** 'public': no session needed (login, reset); otherwise the roles allowed. */
  access: 'public' | Role[];
  render(params: Record<string, string>, account: Account | null): ComponentChildren;
}

/**
 * Every page of the UI. The role lists here only decide what the UI offers; the
 * server enforces the same policy on every API call (and the pharmacy in the URL
 * is checked there, not here).
 */
export const ROUTES: RouteDef[] = [
  { pattern: '/app/connexion', title: 'Connexion', access: 'public', render: () => <LoginPage /> },
  { pattern: '/app/mot-de-passe', title: 'Mot de passe', access: 'public', render: () => <PasswordResetPage /> },
  { pattern: '/app/activer', title: 'Activer mon compte', access: 'public', render: () => <ActivatePage /> },
  { pattern: '/app/double-authentification', title: 'Double authentification', access: PHARMACY_ROLES, render: () => <TotpEnrolPage /> },
  { pattern: '/app/sessions', title: 'Mes sessions', access: PHARMACY_ROLES, render: () => <SessionsPage /> },
  { pattern: '/app/pharmacies/:pharmacyId/tableau-de-bord', title: 'Tableau de bord', access: PHARMACY_ROLES, render: (p) => <PharmacyGate pharmacyId={p.pharmacyId as string}>{(info) => <DashboardPage info={info} pharmacyId={p.pharmacyId as string} />}</PharmacyGate> },
  { pattern: '/app/pharmacies/:pharmacyId/donnees/:table', title: 'Données détaillées', access: PHARMACY_ROLES, render: (p) => <PharmacyGate pharmacyId={p.pharmacyId as string}>{(info) => <DataPage info={info} pharmacyId={p.pharmacyId as string} table={p.table as string} />}</PharmacyGate> },
  { pattern: '/app/pharmacies/:pharmacyId/administration', title: 'Administration de la pharmacie', access: ['pharmacy_admin'], render: (p) => <PharmacyGate pharmacyId={p.pharmacyId as string}>{(info) => <PharmacyAdminPage info={info} pharmacyId={p.pharmacyId as string} />}</PharmacyGate> },
  { pattern: '/app/groupement/benchmark', title: 'Benchmark du groupement', access: ['group_admin'], render: () => <BenchmarkPage /> },
  { pattern: '/app/supervision', title: 'État de l’appliance', access: SUPER, render: () => <StatusPage /> },
  { pattern: '/app/supervision/sauvegardes', title: 'Sauvegardes et exercices de restauration', access: SUPER, render: () => <BackupsPage /> },
  { pattern: '/app/supervision/lecture-seule', title: 'Mode lecture seule', access: SUPER, render: () => <ReadOnlyPage /> },
  { pattern: '/app/supervision/journal', title: 'Journal d’audit', access: SUPER, render: () => <AuditPage /> },
  { pattern: '/app/supervision/acces-urgence', title: 'Accès d’urgence', access: SUPER, render: () => <BreakGlassPage /> },
  { pattern: '/app/supervision/mises-a-jour', title: 'Mises à jour', access: SUPER, render: () => <UpgradesPage /> },
];

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return <Loading label="Redirection…" />;
}

/** The application: session → route → guard → page inside the shell. */
export function App() {
  const session = useSession();
  const { path } = useLocation();
  useEffect(() => onUnauthenticated(sessionEnded), []);

  if (session.status === 'loading') return <Loading label="Chargement de l’application…" />;
  const account = session.status === 'signed-in' ? session.account : null;

  if (path === '/' || path === '/app' || path === '/app/' || path === '/index.html') {
    return <Redirect to={account ? homeFor(account) : '/app/connexion'} />;
  }
  let route: RouteDef | undefined;
  let params: Record<string, string> = {};
  for (const r of ROUTES) {
    const m = match(r.pattern, path);
    if (m) {
      route = r;
      params = m;
      break;
    }
  }
  if (!route) {
    return (
      <Shell account={account} title="Page introuvable" path={path}>
        <h1>Page introuvable</h1>
        <p>Cette adresse ne correspond à aucune page. Vérifiez le lien ou revenez à l’accueil.</p>
        <p>
          <a href="/">Retour à l’accueil</a>
        </p>
      </Shell>
    );
  }
  if (route.access !== 'public') {
    if (!account) return <Redirect to={`/app/connexion?suite=${encodeURIComponent(path + location.search)}`} />;
    if (account.totpEnrolmentRequired && route.pattern !== '/app/double-authentification') return <Redirect to="/app/double-authentification" />;
    if (!route.access.includes(account.role)) {
      return (
        <Shell account={account} title="Accès refusé" path={path}>
          <h1>Accès refusé</h1>
          <div class="notice notice-error" role="alert" data-testid="forbidden">
            <p>Votre rôle ne donne pas accès à cette page.</p>
          </div>
          <p>
            <a href={homeFor(account)}>Retour à votre page d’accueil</a>
          </p>
        </Shell>
      );
    }
  } else if (account && route.pattern === '/app/connexion') {
    return <Redirect to={homeFor(account)} />;
  }
  return (
    <Shell account={account} title={route.title} path={path}>
      {route.render(params, account)}
    </Shell>
  );
}
