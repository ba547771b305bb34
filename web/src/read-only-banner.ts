/**
 * Shows a banner on every page while the appliance is read-only (the operators' kill
 * switch): people see why their changes are refused before they try. Polls the public
 * state endpoint; the server refuses the writes either way.
 */
const POLL_MS = 30_000;

async function refresh(banner: HTMLElement): Promise<void> {
  try {
    const res = await fetch('/api/ops/read-only', { headers: { Accept: 'application/json' } });
    if (!res.ok) return;
    const state = (await res.json()) as { readOnly: boolean };
    banner.hidden = !state.readOnly;
  } catch {
    /* offline: keep the last known state */
  }
}

/** Inserts the (hidden) banner at the top of the body and keeps it current. */
export function startReadOnlyBanner(): void {
  const banner = document.createElement('div');
  banner.className = 'read-only-banner';
  banner.setAttribute('role', 'alert');
  banner.hidden = true;
  banner.textContent = 'Maintenance en cours : l’appliance est en lecture seule. La consultation reste possible ; les modifications sont suspendues.';
  document.body.prepend(banner);
  void refresh(banner);
  setInterval(() => void refresh(banner), POLL_MS);
}
