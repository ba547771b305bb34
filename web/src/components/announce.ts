/**
 * Screen-reader announcements through the two live regions of index.html: polite
 * for page changes and successes, assertive for errors. Clearing first makes a
 * repeated identical message be read again.
 */
export function announce(message: string, politeness: 'polite' | 'assertive' = 'polite'): void {
  const el = document.getElementById(politeness === 'polite' ? 'live-polite' : 'live-assertive');
  if (!el) return;
  el.textContent = '';
  window.setTimeout(() => {
    el.textContent = message;
  }, 50);
}
