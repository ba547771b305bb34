import { useMemo } from 'preact/hooks';
import { BENCHMARK_LABELS, fetchDashboard, fetchPharmacyBenchmark, FAMILY_LABELS, type Family, type Period } from '../api/analytics';
import { get } from '../api/client';
import { BarList, MoneyTimeChart } from '../components/charts';
import { KpiCard } from '../components/kpi-card';
import { ErrorNotice, Loading } from '../components/notice';
import { PeriodPicker, periodQuery, usePeriod } from '../components/period-picker';
import { PharmacyName, type PharmacyInfo } from '../components/pharmacy-gate';
import { useApi } from '../components/use-api';
import { formatCentsRounded, formatDate } from '../format';
import { useLocation } from '../router';
import { fmt } from './benchmark-page';
import { TABLE_LINKS } from './data-page';

/**
 * The pharmacy dashboard: KPI cards compared with the previous period of the same
 * length, revenue and margin per month, the revenue split by family and the
 * supplier spend. The supplier block loads on its own (it needs the detail
 * permission a group admin may not hold).
 */
export function DashboardPage({ info, pharmacyId }: { info: PharmacyInfo; pharmacyId: string }) {
  const { query } = useLocation();
  const [period, setPeriod] = usePeriod(query);
  const deps = [pharmacyId, period.from, period.to];
  const dash = useApi((s) => fetchDashboard(pharmacyId, period, s), deps);
  const suppliers = useApi(
    (s) => get<{ rows: { supplierId: string; name: string; netHtCents: number }[] }>(`/api/pharmacies/${encodeURIComponent(pharmacyId)}/analytics/purchases`, { ...period }, s),
    deps,
  );
  const d = dash.data;
  const months = useMemo(() => d?.monthly.map((m) => m.month) ?? [], [d]);
  const series = useMemo(
    () =>
      d
        ? [
            { label: 'CA HT', values: d.monthly.map((m) => m.caHtCents), colorVar: '--chart-1' },
            { label: 'Marge HT', values: d.monthly.map((m) => m.marginHtCents), colorVar: '--chart-2' },
          ]
        : [],
    [d],
  );

  return (
    <>
      <h1>Tableau de bord</h1>
      <PharmacyName info={info} />
      <PeriodPicker value={period} onChange={setPeriod} />
      <ErrorNotice error={dash.error} />
      {dash.loading && !d && <Loading />}
      {d && (
        <>
          <section aria-labelledby="kpi-title">
            <h2 id="kpi-title">Indicateurs clés</h2>
            <p class="muted">
              Du {formatDate(d.period.from)} au {formatDate(d.period.to)}, comparé au {formatDate(d.previousPeriod.from)} – {formatDate(d.previousPeriod.to)}.
            </p>
            <div class="kpi-grid">
              <KpiCard testId="kpi-ca" label="Chiffre d’affaires TTC" kind="money" value={d.current.caTtcCents} previous={d.previous.caTtcCents} />
              <KpiCard testId="kpi-marge" label="Marge brute HT (honoraires inclus)" kind="money" value={d.current.marginHtCents} previous={d.previous.marginHtCents} />
              <KpiCard testId="kpi-taux-marque" label="Taux de marque" kind="pct" value={d.current.tauxMarquePct} previous={d.previous.tauxMarquePct} />
              <KpiCard testId="kpi-panier" label="Panier moyen TTC" kind="money" value={d.current.panierMoyenCents} previous={d.previous.panierMoyenCents} />
              <KpiCard testId="kpi-generiques" label="Part des génériques" kind="pct" value={d.current.genericSharePct} previous={d.previous.genericSharePct} />
            </div>
            {d.stock && (
              <p>
                Stock au {formatDate(d.stock.snapshotOn)} : {formatCentsRounded(d.stock.valueHtCents)} HT ({d.stock.products} produits).
              </p>
            )}
          </section>
          <section aria-labelledby="charts-title" class="charts">
            <h2 id="charts-title">Évolution et répartition</h2>
            {d.monthly.length > 0 ? <MoneyTimeChart title="Chiffre d’affaires HT et marge HT par mois" months={months} series={series} /> : <p>Aucune vente sur la période.</p>}
            <div class="chart-row">
              <BarList
                testId="split"
                title="Répartition du CA HT"
                items={(Object.keys(FAMILY_LABELS) as Family[]).map((f) => ({ label: FAMILY_LABELS[f], cents: d.current.split[f]?.caHtCents ?? 0 }))}
              />
              {suppliers.data && (
                <BarList
                  testId="suppliers"
                  title="Achats nets HT par fournisseur"
                  items={suppliers.data.rows
                    .slice()
                    .sort((a, b) => b.netHtCents - a.netHtCents)
                    .slice(0, 8)
                    .map((s) => ({ label: s.name, cents: s.netHtCents }))}
                />
              )}
            </div>
          </section>
        </>
      )}
      <GroupPosition pharmacyId={pharmacyId} period={period} />
      <section aria-labelledby="tables-title">
        <h2 id="tables-title">Données détaillées</h2>
        <ul class="link-list">
          {TABLE_LINKS.map(([slug, title]) => (
            <li key={slug}>
              <a href={`/app/pharmacies/${pharmacyId}/donnees/${slug}${periodQuery(period)}`}>{title}</a>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

/** The pharmacy against its groupement's consenting pharmacies (quartiles, median, rank). */
function GroupPosition({ pharmacyId, period }: { pharmacyId: string; period: Period }) {
  const b = useApi((s) => fetchPharmacyBenchmark(pharmacyId, period, s), [pharmacyId, period.from, period.to]);
  if (!b.data) return null; // loading, or no permission for this view: nothing to say
  const d = b.data;
  return (
    <section aria-labelledby="group-title">
      <h2 id="group-title">Votre position dans le groupement</h2>
      {!d.granted ? (
        <p data-testid="benchmark-not-joined">Votre pharmacie ne participe pas au comparatif du groupement. Le titulaire peut l’activer dans Administration.</p>
      ) : d.insufficient ? (
        <p>Trop peu de pharmacies participent ({d.peers}) pour comparer sans les reconnaître.</p>
      ) : (
        <div class="table-scroll">
          <table data-testid="benchmark-position">
            <caption>Comparaison avec {d.peers} pharmacies participantes</caption>
            <thead>
              <tr>
                <th scope="col">Indicateur</th>
                <th scope="col" class="num">Votre pharmacie</th>
                <th scope="col" class="num">Rang</th>
                <th scope="col" class="num">1er quartile</th>
                <th scope="col" class="num">Médiane</th>
                <th scope="col" class="num">3e quartile</th>
              </tr>
            </thead>
            <tbody>
              {d.kpis.map((k) => (
                <tr key={k.kpi}>
                  <th scope="row">{BENCHMARK_LABELS[k.kpi] ?? k.kpi}</th>
                  <td class="num">{fmt(k.kpi, k.value)}</td>
                  <td class="num">{k.rank ? `${k.rank} / ${d.peers}` : '—'}</td>
                  <td class="num">{fmt(k.kpi, k.q1)}</td>
                  <td class="num">{fmt(k.kpi, k.median)}</td>
                  <td class="num">{fmt(k.kpi, k.q3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
