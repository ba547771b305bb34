import { get } from '../api/client';
import { clientSide, DataTable } from '../components/data-table';
import { ErrorNotice, Loading } from '../components/notice';
import { PeriodPicker, usePeriod } from '../components/period-picker';
import { useApi } from '../components/use-api';
import { useLocation } from '../router';

interface BenchRow {
  pharmacyId: string;
  pharmacyName: string;
  revenueTtcCents: number;
  marginHtCents: number;
  markRate: number | null;
  basketAvgCents: number | null;
  genericShare: number | null;
}

/**
 * The groupement admin's benchmark: one line per pharmacy that granted access, and
 * the group median. Pharmacies that did not consent never appear.
 */
export function BenchmarkPage() {
  const { query } = useLocation();
  const [period, setPeriod] = usePeriod(query);
  const granted = useApi((s) => get<{ pharmacies: { id: string; name: string; permissions: string[] }[] }>('/api/group/pharmacies', undefined, s), []);
  return (
    <>
      <h1>Benchmark du groupement</h1>
      <p>Seules les pharmacies qui vous ont accordé un accès figurent ici.</p>
      <PeriodPicker value={period} onChange={setPeriod} />
      <ErrorNotice error={granted.error} />
      {granted.loading && <Loading />}
      {granted.data && (
        <>
          <p>
            {granted.data.pharmacies.length} pharmacie{granted.data.pharmacies.length > 1 ? 's' : ''} consentante{granted.data.pharmacies.length > 1 ? 's' : ''}.
          </p>
          <DataTable<BenchRow>
            caption="Indicateurs par pharmacie"
            testId="benchmark-table"
            deps={[period.from, period.to]}
            rowKey={(r) => r.pharmacyId}
            load={async (q, signal) => clientSide((await get<{ rows: BenchRow[] }>('/api/group/benchmark', { ...period }, signal)).rows, ['pharmacyName'])(q)}
            columns={[
              { key: 'pharmacyName', label: 'Pharmacie', sortable: true, render: (r) => <a href={`/app/pharmacies/${r.pharmacyId}/tableau-de-bord`}>{r.pharmacyName}</a> },
              { key: 'revenueTtcCents', label: 'CA TTC', kind: 'money', sortable: true },
              { key: 'marginHtCents', label: 'Marge HT', kind: 'money', sortable: true },
              { key: 'markRate', label: 'Taux de marque', kind: 'ratio', sortable: true },
              { key: 'basketAvgCents', label: 'Panier moyen', kind: 'money', sortable: true },
              { key: 'genericShare', label: 'Part générique', kind: 'ratio', sortable: true },
            ]}
          />
        </>
      )}
    </>
  );
}
