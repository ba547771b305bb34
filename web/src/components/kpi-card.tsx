import { formatCentsRounded, formatChange, formatInteger, formatPct } from '../format';

/** How a KPI value is shown: cents, a percentage (28.45 = 28,45 %), or a count. */
export type KpiKind = 'money' | 'pct' | 'int';

/** Relative change between periods, or null when the previous value is 0 or missing. */
export function change(current: number | null | undefined, previous: number | null | undefined): number | null {
  if (current === null || current === undefined || previous === null || previous === undefined || previous === 0) return null;
  return (current - previous) / Math.abs(previous);
}

/** The headline text of a KPI value (exported: the browser test formats the API's figures the same way). */
export function kpiText(kind: KpiKind, value: number | null | undefined): string {
  return kind === 'money' ? formatCentsRounded(value) : kind === 'pct' ? formatPct(value) : formatInteger(value);
}

/**
 * One headline figure with its comparison to the previous period. Percentages
 * compare in points (a margin rate going 28 % → 30 % is "+2,0 pt"), amounts and
 * counts in relative change. The direction is said in words, not only by colour.
 */
export function KpiCard({ label, kind, value, previous, testId }: { label: string; kind: KpiKind; value: number | null | undefined; previous: number | null | undefined; testId?: string }) {
  let delta: string | null = null;
  let dir: 'up' | 'down' | 'flat' = 'flat';
  if (kind === 'pct') {
    if (value !== null && value !== undefined && previous !== null && previous !== undefined) {
      const pts = value - previous;
      dir = pts > 0.05 ? 'up' : pts < -0.05 ? 'down' : 'flat';
      delta = `${pts > 0 ? '+' : pts < 0 ? '−' : ''}${Math.abs(pts).toLocaleString('fr-FR', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} pt`;
    }
  } else {
    const c = change(value, previous);
    if (c !== null) {
      dir = c > 0.0005 ? 'up' : c < -0.0005 ? 'down' : 'flat';
      delta = formatChange(c);
    }
  }
  const words = dir === 'up' ? 'en hausse' : dir === 'down' ? 'en baisse' : 'stable';
  return (
    <div class="kpi" data-testid={testId}>
      <p class="kpi-label">{label}</p>
      <p class="kpi-value" data-testid={testId ? `${testId}-value` : undefined}>
        {kpiText(kind, value)}
      </p>
      <p class={`kpi-delta kpi-${dir}`}>{delta === null ? 'Pas de comparaison possible' : `${delta} (${words}) par rapport à la période précédente`}</p>
    </div>
  );
}
