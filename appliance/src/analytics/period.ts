import { AppError } from '../http/errors.js';
import type { Period } from './analytics.api.js';

/** A period of whole days (declared with the API shapes, which carry it). */
export type { Period };

const DAY = 86_400_000;
const toMs = (d: string) => Date.parse(`${d}T00:00:00Z`);
const toDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Validates a period: real dates, from ≤ to, at most about three years. */
export function checkPeriod(p: Period): Period {
  const a = toMs(p.from);
  const b = toMs(p.to);
  if (Number.isNaN(a) || Number.isNaN(b) || toDay(a) !== p.from || toDay(b) !== p.to) {
    throw new AppError(422, 'invalid_period', 'Période invalide.', 'bad dates');
  }
  if (b < a || (b - a) / DAY > 1100) throw new AppError(422, 'invalid_period', 'Période invalide (début après fin, ou plus de trois ans).', 'bad range');
  return p;
}

/** Number of days in the period. */
export function periodDays(p: Period): number {
  return (toMs(p.to) - toMs(p.from)) / DAY + 1;
}

/** The period of the same length just before. */
export function previousPeriod(p: Period): Period {
  const n = periodDays(p);
  return { from: toDay(toMs(p.from) - n * DAY), to: toDay(toMs(p.from) - DAY) };
}

/** Shifts a day by whole years (29 February becomes 28 February). */
export function shiftYears(day: string, years: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const ty = y + years;
  const last = new Date(Date.UTC(ty, m, 0)).getUTCDate();
  return `${ty}-${String(m).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** The same period one year earlier. */
export function lastYearPeriod(p: Period): Period {
  return { from: shiftYears(p.from, -1), to: shiftYears(p.to, -1) };
}

/** The `months` calendar months ending with the month of `day` (the default dashboard period). */
export function trailingMonths(day: string, months: number): Period {
  const [y, m] = day.split('-').map(Number) as [number, number];
  const end = new Date(Date.UTC(y, m, 0));
  const start = new Date(Date.UTC(y, m - months, 1));
  return { from: toDay(start.getTime()), to: toDay(end.getTime()) };
}

/** A piece of a period read from one rollup: whole calendar months, or single days. */
export interface Segment {
  kind: 'month' | 'day';
  /** For `month`: first day of the first and of the last month. For `day`: first and last day. */
  from: string;
  to: string;
}

/**
 * Splits a period into the whole calendar months it covers (read from the monthly
 * rollup) and the days before and after them (read from the daily rollup).
 */
export function segments(p: Period): Segment[] {
  const [fy, fm, fd] = p.from.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = p.to.split('-').map(Number) as [number, number, number];
  const firstFull = fd === 1 ? Date.UTC(fy, fm - 1, 1) : Date.UTC(fy, fm, 1);
  const lastDayOfTo = new Date(Date.UTC(ty, tm, 0)).getUTCDate();
  const lastFullStart = td === lastDayOfTo ? Date.UTC(ty, tm - 1, 1) : Date.UTC(ty, tm - 2, 1);
  if (firstFull > lastFullStart) return [{ kind: 'day', from: p.from, to: p.to }];
  const out: Segment[] = [];
  if (toMs(p.from) < firstFull) out.push({ kind: 'day', from: p.from, to: toDay(firstFull - DAY) });
  out.push({ kind: 'month', from: toDay(firstFull), to: toDay(lastFullStart) });
  const afterMonths = new Date(lastFullStart);
  const end = Date.UTC(afterMonths.getUTCFullYear(), afterMonths.getUTCMonth() + 1, 1);
  if (end <= toMs(p.to)) out.push({ kind: 'day', from: toDay(end), to: p.to });
  return out;
}
