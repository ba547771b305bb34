import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { formatCents, formatCentsRounded, formatMonth, formatRatio } from '../format';

/** One series of a time chart: a name and its values in cents, aligned on the x months. */
export interface MoneySeries {
  label: string;
  values: (number | null)[];
  /** CSS class colour token: the palette lives in styles.css, read via getComputedStyle. */
  colorVar: string;
}

function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

/**
 * Money over time (uPlot on canvas). uPlot styles its elements through the CSSOM,
 * which the CSP allows (only inline style attributes in markup are refused). The
 * figures are also given as a table for screen readers: a canvas says nothing.
 */
export function MoneyTimeChart({ title, months, series }: { title: string; months: string[]; series: MoneySeries[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // Each month sits on its 15th: far from any time-zone edge.
    const xs = months.map((m) => Date.parse(`${m}-15T12:00:00Z`) / 1000);
    const width = Math.max(320, el.clientWidth || 640);
    const plot = new uPlot(
      {
        width,
        height: 260,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Europe/Paris'),
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        series: [
          { label: 'Mois', value: (_u, v) => (v === null ? '—' : formatMonth(new Date(v * 1000))) },
          ...series.map((s) => ({
            label: s.label,
            stroke: cssVar(el, s.colorVar, '#0b6e4f'),
            width: 2,
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : formatCents(v)),
          })),
        ],
        axes: [
          { space: 60, incrs: [30 * 86400, 61 * 86400, 91 * 86400, 182 * 86400, 365 * 86400], values: (_u, ticks) => ticks.map((t) => formatMonth(new Date(t * 1000))) },
          { size: 80, values: (_u, ticks) => ticks.map((t) => formatCentsRounded(t)) },
        ],
      },
      [xs, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(320, el.clientWidth), height: 260 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [months, series]);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-canvas" aria-hidden="true" />
      <details class="chart-data">
        <summary>Voir les données du graphique</summary>
        <table>
          <caption class="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">Mois</th>
              {series.map((s) => (
                <th scope="col" class="num" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {months.map((m, i) => (
              <tr key={m}>
                <th scope="row">{formatMonth(`${m}-15`)}</th>
                {series.map((s) => (
                  <td class="num" key={s.label}>
                    {formatCents(s.values[i] ?? null)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/**
 * Shares of a whole as horizontal bars (reimbursable / non-reimbursable /
 * parapharmacy, supplier spend). Plain HTML: readable by screen readers as a list,
 * bar widths set through the CSSOM.
 */
export function BarList({ title, items, testId }: { title: string; items: { label: string; cents: number }[]; testId?: string }) {
  const total = items.reduce((s, i) => s + Math.max(0, i.cents), 0);
  const max = items.reduce((m, i) => Math.max(m, i.cents), 0);
  return (
    <figure class="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      {items.length === 0 ? (
        <p>Aucune donnée sur la période.</p>
      ) : (
        <ul class="bar-list">
          {items.map((i) => (
            <li key={i.label}>
              <span class="bar-label">{i.label}</span>
              <span class="bar-track" aria-hidden="true">
                <Bar ratio={max > 0 ? i.cents / max : 0} />
              </span>
              <span class="bar-value">
                {formatCentsRounded(i.cents)} ({formatRatio(total > 0 ? i.cents / total : null)})
              </span>
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}

function Bar({ ratio }: { ratio: number }) {
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.style.width = `${Math.round(Math.max(0, Math.min(1, ratio)) * 1000) / 10}%`;
  }, [ratio]);
  return <span ref={ref} class="bar-fill" />;
}
