/**
 * French formatting for every figure the UI shows: money from integer cents (never
 * floats from the server), percentages, counts, and dates in Europe/Paris whatever
 * the browser's own time zone. One place, so a page cannot format differently.
 */

const TZ = 'Europe/Paris';

const euro = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' });
const euroRound = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 });
const integer = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat('fr-FR', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const signedPercent = new Intl.NumberFormat('fr-FR', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' });
const day = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric' });
const dateTime = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, dateStyle: 'short', timeStyle: 'short' });
const monthYear = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, month: 'long', year: 'numeric' });

const NONE = '—';

/** Accepts cents as a number, a bigint-ish string ("123456") or null. */
function toCents(v: number | string | null | undefined): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** 123456 → "1 234,56 €" (cents in, euros out). */
export function formatCents(cents: number | string | null | undefined): string {
  const c = toCents(cents);
  return c === null ? NONE : euro.format(c / 100);
}

/** Cents rounded to the euro, for KPI headlines and chart axes: "12 346 €". */
export function formatCentsRounded(cents: number | string | null | undefined): string {
  const c = toCents(cents);
  return c === null ? NONE : euroRound.format(Math.round(c / 100));
}

/** A ratio (0.284) → "28,4 %". */
export function formatRatio(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? NONE : percent.format(ratio);
}

/** A percentage as the analytics API gives it (28.45 = 28,45 %) → "28,5 %". */
export function formatPct(pct: number | null | undefined): string {
  return pct === null || pct === undefined || !Number.isFinite(pct) ? NONE : percent.format(pct / 100);
}

/** A change ratio (0.052) → "+5,2 %", for period comparisons. */
export function formatChange(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? NONE : signedPercent.format(ratio);
}

/** A count or quantity: "1 234". */
export function formatInteger(n: number | string | null | undefined): string {
  const v = toCents(n);
  return v === null ? NONE : integer.format(v);
}

/** A plain decimal (coefficients, rotation days): "1,42". */
export function formatDecimal(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? NONE : decimal.format(n);
}

function toDate(v: string | number | Date | null | undefined): Date | null {
  if (v === null || v === undefined || v === '') return null;
  // A bare calendar day ("2026-03-14") is a Paris day: noon UTC keeps it on that day.
  const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T12:00:00Z`) : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A day in Paris: "14/03/2026". */
export function formatDate(v: string | number | Date | null | undefined): string {
  const d = toDate(v);
  return d ? day.format(d) : NONE;
}

/** An instant in Paris: "14/03/2026 09:30". */
export function formatDateTime(v: string | number | Date | null | undefined): string {
  const d = toDate(v);
  return d ? dateTime.format(d) : NONE;
}

/** A month in Paris: "mars 2026". */
export function formatMonth(v: string | number | Date | null | undefined): string {
  const d = toDate(v);
  return d ? monthYear.format(d) : NONE;
}

/** Today's date in Paris as YYYY-MM-DD (for default periods). */
export function parisToday(now = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  return parts; // en-CA formats as YYYY-MM-DD
}

/** The month after a YYYY-MM-DD day's month, as its first day (for period ends). */
export function endOfMonth(isoDay: string): string {
  const [y, m] = isoDay.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/** First day of the month `n` months before the month of a YYYY-MM-DD day. */
export function startOfMonthBefore(isoDay: string, n: number): string {
  const [y, m] = isoDay.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 - n, 1)).toISOString().slice(0, 10);
}

/** Adds days to a YYYY-MM-DD date (calendar arithmetic in UTC, no DST surprises). */
export function addDays(isoDay: string, days: number): string {
  const d = new Date(`${isoDay}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
