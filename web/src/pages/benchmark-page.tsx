import { BENCHMARK_LABELS as KPI_LABELS, fetchGroupBenchmark, type BenchmarkKpi } from '../api/analytics';
import { get } from '../api/client';
import { ErrorNotice, Loading } from '../components/notice';
import { PeriodPicker, usePeriod } from '../components/period-picker';
import { useApi } from '../components/use-api';
import { formatCentsRounded, formatInteger, formatPct } from '../format';
import { useLocation } from '../router';

const KPI_ORDER = Object.keys(KPI_LABELS) as BenchmarkKpi[];

/** Formats a benchmark value by the kind its KPI name says (cents, percent, count). */
export function fmt(kpi: BenchmarkKpi, v: number | null | undefined): string {
  if (kpi.endsWith('Cents')) return formatCentsRounded(v);
  if (kpi.endsWith('Pct')) return formatPct(v);
  return formatInteger(v);
}

/**
 * The groupement admin's benchmark: quartiles and median of each KPI over the
 * pharmacies that consented, and — only for those that granted the detail
 * permission — their own figures by name. Too few peers: nothing is shown.
 */
export function BenchmarkPage() {
  const { query } = useLocation();
  const [period, setPeriod] = usePeriod(query);
  const granted = useApi((s) => get<{ pharmacies: { id: string; name: string; permissions: string[] }[] }>('/api/group/pharmacies', undefined, s), []);
  const bench = useApi((s) => fetchGroupBenchmark(period, s), [period.from, period.to]);
  const b = bench.data;
  return (
    <>
      <h1>Benchmark du groupement</h1>
      <p>Seules les pharmacies qui participent au comparatif y figurent ; leurs noms n’apparaissent que si elles vous ont accordé l’accès au détail.</p>
      <PeriodPicker value={period} onChange={setPeriod} />
      <ErrorNotice error={bench.error ?? granted.error} />
      {bench.loading && !b && <Loading />}
      {b &&
        (b.insufficient ? (
          <p class="notice notice-info" data-testid="benchmark-insufficient">
            Trop peu de pharmacies participent ({b.peers}) : les quartiles permettraient de les reconnaître, ils ne sont pas affichés.
          </p>
        ) : (
          <div class="table-scroll">
            <table data-testid="benchmark-table">
              <caption>Répartition sur {b.peers} pharmacies participantes</caption>
              <thead>
                <tr>
                  <th scope="col">Indicateur</th>
                  <th scope="col" class="num">1er quartile</th>
                  <th scope="col" class="num">Médiane</th>
                  <th scope="col" class="num">3e quartile</th>
                </tr>
              </thead>
              <tbody>
                {b.kpis.map((k) => (
                  <tr key={k.kpi}>
                    <th scope="row">{KPI_LABELS[k.kpi] ?? k.kpi}</th>
                    <td class="num">{fmt(k.kpi, k.q1)}</td>
                    <td class="num">{fmt(k.kpi, k.median)}</td>
                    <td class="num">{fmt(k.kpi, k.q3)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {b?.pharmacies && b.pharmacies.length > 0 && (
        <div class="table-scroll">
          <table data-testid="benchmark-pharmacies">
            <caption>Pharmacies qui vous ont accordé le détail</caption>
            <thead>
              <tr>
                <th scope="col">Pharmacie</th>
                {KPI_ORDER.map((k) => (
                  <th scope="col" class="num" key={k}>
                    {KPI_LABELS[k]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {b.pharmacies.map((p) => (
                <tr key={p.pharmacyId}>
                  <th scope="row">
                    <a href={`/app/pharmacies/${p.pharmacyId}/tableau-de-bord`}>{p.name}</a>
                  </th>
                  {KPI_ORDER.map((k) => (
                    <td class="num" key={k}>
                      {fmt(k, p.values[k])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {granted.data && (
        <section aria-labelledby="granted-title">
          <h2 id="granted-title">Pharmacies qui vous ont accordé un accès</h2>
          {granted.data.pharmacies.length === 0 ? (
            <p>Aucune pour l’instant.</p>
          ) : (
            <ul>
              {granted.data.pharmacies.map((p) => (
                <li key={p.id}>
                  <a href={`/app/pharmacies/${p.id}/tableau-de-bord`}>{p.name}</a> — {p.permissions.includes('details') ? 'chiffres et détail' : 'chiffres agrégés'}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </>
  );
}
