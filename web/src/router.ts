import { useEffect, useState } from 'preact/hooks';

/**
 * A tiny history-API router: the UI has a dozen pages, a library would add more
 * than it saves. Paths live under /app/ (the server answers index.html there).
 */

const listeners = new Set<() => void>();

/** Goes to a path inside the app (pushState) and lets the app re-render. */
export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const fn of listeners) fn();
}

window.addEventListener('popstate', () => {
  for (const fn of listeners) fn();
});

/** Current location (path + query), re-rendering on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const read = () => ({ path: location.pathname, query: new URLSearchParams(location.search) });
  const [loc, set] = useState(read);
  useEffect(() => {
    const fn = () => set(read());
    listeners.add(fn);
    return () => void listeners.delete(fn);
  }, []);
  return loc;
}

/** Matches `/app/pharmacies/:pharmacyId/tableau-de-bord` against a path; returns the params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const a = path.replace(/\/+$/, '').split('/');
  if (p.length !== a.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i] as string;
    const val = a[i] as string;
    if (seg.startsWith(':')) {
      if (!val) return null;
      params[seg.slice(1)] = decodeURIComponent(val);
    } else if (seg !== val) return null;
  }
  return params;
}

/**
 * Same-origin links go through the router instead of reloading the page. One
 * listener on the document, so plain <a href> elements work everywhere.
 */
export function interceptLinks(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith('/app/')) return;
    if (url.hash && url.pathname === location.pathname && url.search === location.search) return; // in-page anchor (skip link)
    e.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
