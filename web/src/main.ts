import { startReadOnlyBanner } from './read-only-banner.js';

/**
 * Entry point of the browser UI. For now it confirms the appliance is ready by
 * asking /readyz; the full UI (login, dashboards, admin pages) grows from here.
 */
async function showReadiness(): Promise<void> {
  const el = document.getElementById('status');
  if (!el) return;
  try {
    const res = await fetch('/readyz', { headers: { Accept: 'application/json' } });
    el.textContent = res.ok
      ? 'L’appliance fonctionne et sa base de données est prête.'
      : 'L’appliance fonctionne, mais sa base de données n’est pas encore prête.';
    el.dataset.ready = String(res.ok);
  } catch {
    el.textContent = 'L’appliance ne répond pas.';
    el.dataset.ready = 'false';
  }
}

void showReadiness();
startReadOnlyBanner();
