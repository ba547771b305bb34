import { useEffect, useState } from 'preact/hooks';
import { get, onReadOnlyRefusal } from '../api/client';
import { formatDateTime } from '../format';

const POLL_MS = 30_000;

/** The public kill-switch state (ops: GET /api/ops/read-only). */
interface ReadOnlyState {
  readOnly: boolean;
  since: string | null;
}

/**
 * Banner shown on every page while the appliance is read-only: people can still
 * consult, but their changes will be refused. Polls the public flag, and refreshes
 * at once when a write comes back `read_only`.
 */
export function ReadOnlyBanner() {
  const [s, setS] = useState<ReadOnlyState | null>(null);
  useEffect(() => {
    let stopped = false;
    const load = () =>
      get<ReadOnlyState>('/api/ops/read-only').then(
        (r) => !stopped && setS(r),
        () => undefined,
      );
    void load();
    const timer = window.setInterval(load, POLL_MS);
    const off = onReadOnlyRefusal(() => void load());
    // The super-admin's switch page tells the banner at once instead of waiting for the poll.
    const onChanged = () => void load();
    window.addEventListener('officine:read-only-changed', onChanged);
    return () => {
      window.removeEventListener('officine:read-only-changed', onChanged);
      stopped = true;
      window.clearInterval(timer);
      off();
    };
  }, []);
  if (!s?.readOnly) return null;
  return (
    <div class="read-only-banner" role="status" data-testid="read-only-banner">
      <strong>Appliance en lecture seule</strong>
      {s.since ? ` depuis le ${formatDateTime(s.since)}` : ''} : la consultation reste possible, les modifications sont
      suspendues (maintenance ou incident).
    </div>
  );
}
