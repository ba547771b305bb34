import { useId } from 'preact/hooks';
import type { Period } from '../api/analytics';
import { endOfMonth, parisToday, startOfMonthBefore } from '../format';

/** The default period: the twelve months up to the end of the current one (Paris), as the API's default. */
export function defaultPeriod(now = new Date()): Period {
  const today = parisToday(now);
  return { from: startOfMonthBefore(today, 11), to: endOfMonth(today) };
}

/** Two labelled date inputs choosing the analysed period. */
export function PeriodPicker({ value, onChange }: { value: Period; onChange: (p: Period) => void }) {
  const id = useId();
  return (
    <fieldset class="period">
      <legend>Période analysée</legend>
      <label for={`${id}-from`}>Du</label>
      <input id={`${id}-from`} type="date" value={value.from} max={value.to} onChange={(e) => onChange({ ...value, from: (e.target as HTMLInputElement).value })} />
      <label for={`${id}-to`}>au</label>
      <input id={`${id}-to`} type="date" value={value.to} min={value.from} onChange={(e) => onChange({ ...value, to: (e.target as HTMLInputElement).value })} />
    </fieldset>
  );
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The period kept in the URL (`?du=…&au=…`), so that a bookmark, a reload or the
 * back button show the same figures, and switching pages keeps the period.
 */
export function usePeriod(query: URLSearchParams): [Period, (p: Period) => void] {
  const def = defaultPeriod();
  const from = query.get('du') ?? '';
  const to = query.get('au') ?? '';
  const period = DAY.test(from) && DAY.test(to) && from <= to ? { from, to } : def;
  const set = (p: Period) => {
    if (!DAY.test(p.from) || !DAY.test(p.to) || p.from > p.to) return;
    const qs = new URLSearchParams(location.search);
    qs.set('du', p.from);
    qs.set('au', p.to);
    history.replaceState(null, '', `${location.pathname}?${qs.toString()}`);
    dispatchEvent(new PopStateEvent('popstate'));
  };
  return [period, set];
}

/** `?du=…&au=…` for links between pharmacy pages. */
export function periodQuery(p: Period): string {
  return `?du=${p.from}&au=${p.to}`;
}
