import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { logout, ROLE_LABELS, type Account } from '../api/session';
import { navigate } from '../router';
import { announce } from './announce';
import { ReadOnlyBanner } from './read-only-banner';

/** One entry of the main navigation. */
export interface NavItem {
  href: string;
  label: string;
}

/** The navigation an account sees: only the pages its role may open. */
export function navFor(account: Account | null): NavItem[] {
  if (!account) return [{ href: '/app/connexion', label: 'Connexion' }];
  const items: NavItem[] = [];
  const ph = account.pharmacyId;
  if (account.role === 'super_admin') {
    items.push(
      { href: '/app/supervision', label: 'État de l’appliance' },
      { href: '/app/supervision/sauvegardes', label: 'Sauvegardes' },
      { href: '/app/supervision/lecture-seule', label: 'Lecture seule' },
      { href: '/app/supervision/journal', label: 'Journal d’audit' },
      { href: '/app/supervision/acces-urgence', label: 'Accès d’urgence' },
      { href: '/app/supervision/mises-a-jour', label: 'Mises à jour' },
    );
  }
  if (account.role === 'group_admin') items.push({ href: '/app/groupement/benchmark', label: 'Benchmark du groupement' });
  if (ph && (account.role === 'user' || account.role === 'pharmacy_admin')) {
    items.push(
      { href: `/app/pharmacies/${ph}/tableau-de-bord`, label: 'Tableau de bord' },
      { href: `/app/pharmacies/${ph}/donnees/ventes`, label: 'Données détaillées' },
    );
    if (account.role === 'pharmacy_admin') items.push({ href: `/app/pharmacies/${ph}/administration`, label: 'Administration' });
  }
  items.push({ href: '/app/sessions', label: 'Mes sessions' });
  return items;
}

/** A menu entry is current on its page and, for detail tables, on any of them. */
function isCurrent(path: string, href: string): boolean {
  if (path === href) return true;
  const detail = href.match(/^(.*\/donnees\/)/);
  return !!detail && path.startsWith(detail[1] as string);
}

/** Where an account lands after login or on `/`. */
export function homeFor(account: Account): string {
  if (account.totpEnrolmentRequired) return '/app/double-authentification';
  if (account.role === 'super_admin') return '/app/supervision';
  if (account.role === 'group_admin') return '/app/groupement/benchmark';
  if (account.pharmacyId) return `/app/pharmacies/${account.pharmacyId}/tableau-de-bord`;
  return '/app/sessions';
}

/**
 * The frame of every page: skip link, header with the account and logout, role
 * navigation, the read-only banner, and <main>. On each page change the page
 * title is set, focus moves to the page heading (so keyboard and screen-reader
 * users start at the new content) and the change is announced.
 */
export function Shell({ account, title, path, children }: { account: Account | null; title: string; path: string; children: ComponentChildren }) {
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    document.title = `${title} — Officine`;
    if (first.current) {
      first.current = false;
      return;
    }
    // The heading may arrive after a load (pharmacy pages): fall back to <main>.
    const h1 = mainRef.current?.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus();
    } else mainRef.current?.focus();
    announce(`Page : ${title}`);
  }, [path, title]);
  const items = navFor(account);
  const onLogout = async () => {
    await logout().catch(() => undefined);
    navigate('/app/connexion');
  };
  return (
    <>
      <a class="skip-link" href="#contenu">
        Aller au contenu principal
      </a>
      <header class="topbar">
        <a class="brand" href={account ? homeFor(account) : '/app/connexion'}>
          Officine
        </a>
        {account && (
          <div class="account">
            <span class="account-name">
              {account.displayName} <span class="account-role">({ROLE_LABELS[account.role]})</span>
            </span>
            <button type="button" class="button-secondary" onClick={onLogout}>
              Se déconnecter
            </button>
          </div>
        )}
      </header>
      {account && (
        <nav class="mainnav" aria-label="Navigation principale">
          <ul>
            {items.map((i) => (
              <li key={i.href}>
                <a href={i.href} aria-current={isCurrent(path, i.href) ? 'page' : undefined}>
                  {i.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <ReadOnlyBanner />
      <main id="contenu" ref={mainRef} tabIndex={-1} class="content">
        {children}
      </main>
    </>
  );
}
