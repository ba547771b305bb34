import { PharmacyName, type PharmacyInfo } from '../components/pharmacy-gate';
import { fetchKpis, fetchSplit, fetchSupplierSpend, fetchTimeseries, SEGMENT_LABELS, TABLES } from '../api/analytics';
import { BarList, MoneyTimeChart } from '../components/charts';
import { KpiCard } from '../components/kpi-card';
import { ErrorNotice, Loading } from '../components/notice';
import { PeriodPicker, periodQuery, usePeriod } from '../components/period-picker';
import { useApi } from '../components/use-api';
import { formatDate } from '../format';
import { useLocation } from '../router';
import { TABLE_TITLES } from './data-page';

/**
 * The pharmacy dashboard: five KPI cards compared with the previous period of the
 * same length, revenue and margin over time, the revenue split by segment and the
 * supplier spend. Each block loads on its own so one slow query does not blank the page.
 */
export function DashboardPage({ info, pharmacyId }: { info: PharmacyInfo; pharmacyId: string }) {
  const { query } = useLocation();
  const [period, setPeriod] = usePeriod(query);
  const deps = [pharmacyId, period.from, period.to];
  const kpis = useApi((s) => fetchKpis(pharmacyId, period, s), deps);
  const series = useApi((s) => fetchTimeseries(pharmacyId, period, s), deps);
  const split = useApi((s) => fetchSplit(pharmacyId, period, s), deps);
  const suppliers = useApi((s) => fetchSupplierSpend(pharmacyId, period, s), deps);
  const k = kpis.data;

  return (
    <>
      <h1>Tableau de bord</h1>
      <PharmacyName info={info} />
      <PeriodPicker value={period} onChange={setPeriod} />
      <ErrorNotice error={kpis.error} />
      <section aria-labelledby="kpi-title">
        <h2 id="kpi-title">Indicateurs clés</h2>
        {k ? (
          <>
            <p class="muted">
              Du {formatDate(k.period.from)} au {formatDate(k.period.to)}, comparé au {formatDate(k.previousPeriod.from)} – {formatDate(k.previousPeriod.to)}.
            </p>
            <div class="kpi-grid">
              <KpiCard testId="kpi-revenue" label="Chiffre d’affaires TTC" kind="money" value={k.current.revenueTtcCents} previous={k.previous.revenueTtcCents} />
              <KpiCard testId="kpi-margin" label="Marge brute HT" kind="money" value={k.current.marginHtCents} previous={k.previous.marginHtCents} />
              <KpiCard testId="kpi-mark-rate" label="Taux de marque" kind="ratio" value={k.current.markRate} previous={k.previous.markRate} />
              <KpiCard testId="kpi-basket" label="Panier moyen TTC" kind="money" value={k.current.basketAvgCents} previous={k.previous.basketAvgCents} />
              <KpiCard testId="kpi-generic" label="Part des génériques" kind="ratio" value={k.current.genericShare} previous={k.previous.genericShare} />
            </div>
          </>
        ) : (
          kpis.loading && <Loading />
        )}
      </section>
      <section aria-labelledby="charts-title" class="charts">
        <h2 id="charts-title">Évolution et répartition</h2>
        <ErrorNotice error={series.error} />
        {series.data && (
          <MoneyTimeChart
            title="Chiffre d’affaires HT et marge HT par jour"
            days={series.data.points.map((p) => p.day)}
            series={[
              { label: 'CA HT', values: series.data.points.map((p) => p.revenueHtCents), colorVar: '--chart-1' },
              { label: 'Marge HT', values: series.data.points.map((p) => p.marginHtCents), colorVar: '--chart-2' },
            ]}
          />
        )}
        <div class="chart-row">
          <ErrorNotice error={split.error} />
          {split.data && (
            <BarList
              testId="split"
              title="Répartition du CA HT"
              items={split.data.segments.map((s) => ({ label: SEGMENT_LABELS[s.segment] ?? s.segment, cents: s.revenueHtCents }))}
            />
          )}
          <ErrorNotice error={suppliers.error} />
          {suppliers.data && <BarList testId="suppliers" title="Achats HT par fournisseur" items={suppliers.data.suppliers.map((s) => ({ label: s.supplier, cents: s.spendHtCents }))} />}
        </div>
      </section>
      <section aria-labelledby="tables-title">
        <h2 id="tables-title">Données détaillées</h2>
        <ul class="link-list">
          {TABLES.map((t) => (
            <li key={t}>
              <a href={`/app/pharmacies/${pharmacyId}/donnees/${t}${periodQuery(period)}`}>{TABLE_TITLES[t]}</a>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
