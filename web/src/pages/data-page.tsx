import { PharmacyName, type PharmacyInfo } from '../components/pharmacy-gate';
import { fetchTable, TABLES, tableExportUrl, type TableName } from '../api/analytics';
import { DataTable, type Column } from '../components/data-table';
import { PeriodPicker, periodQuery, usePeriod } from '../components/period-picker';
import { useLocation } from '../router';

/** French titles of the detail tables. */
export const TABLE_TITLES: Record<TableName, string> = {
  ventes: 'Ventes',
  achats: 'Achats',
  factures: 'Factures fournisseurs',
  stock: 'Stock',
  'stock-dormant': 'Stock dormant',
  anomalies: 'Anomalies',
};

type Row = Record<string, unknown>;

/** Columns per table, French headers; money in cents, dates in Paris. */
const COLUMNS: Record<TableName, Column<Row>[]> = {
  ventes: [
    { key: 'soldAt', label: 'Date', kind: 'datetime', sortable: true },
    { key: 'productCode', label: 'Code produit', sortable: true },
    { key: 'productName', label: 'Désignation', sortable: true },
    { key: 'quantity', label: 'Quantité', kind: 'int', sortable: true },
    { key: 'amountTtcCents', label: 'Montant TTC', kind: 'money', sortable: true },
    { key: 'marginHtCents', label: 'Marge HT', kind: 'money', sortable: true },
  ],
  achats: [
    { key: 'receivedAt', label: 'Date', kind: 'date', sortable: true },
    { key: 'supplier', label: 'Fournisseur', sortable: true },
    { key: 'productCode', label: 'Code produit', sortable: true },
    { key: 'productName', label: 'Désignation', sortable: true },
    { key: 'quantity', label: 'Quantité', kind: 'int', sortable: true },
    { key: 'netCostHtCents', label: 'Coût net HT', kind: 'money', sortable: true },
  ],
  factures: [
    { key: 'invoiceDate', label: 'Date', kind: 'date', sortable: true },
    { key: 'supplier', label: 'Fournisseur', sortable: true },
    { key: 'invoiceNumber', label: 'Numéro', sortable: true },
    { key: 'totalHtCents', label: 'Total HT', kind: 'money', sortable: true },
    { key: 'totalTtcCents', label: 'Total TTC', kind: 'money', sortable: true },
  ],
  stock: [
    { key: 'productCode', label: 'Code produit', sortable: true },
    { key: 'productName', label: 'Désignation', sortable: true },
    { key: 'quantity', label: 'Quantité', kind: 'int', sortable: true },
    { key: 'valueHtCents', label: 'Valeur HT', kind: 'money', sortable: true },
  ],
  'stock-dormant': [
    { key: 'productCode', label: 'Code produit', sortable: true },
    { key: 'productName', label: 'Désignation', sortable: true },
    { key: 'quantity', label: 'Quantité', kind: 'int', sortable: true },
    { key: 'valueHtCents', label: 'Valeur HT', kind: 'money', sortable: true },
    { key: 'lastSaleAt', label: 'Dernière vente', kind: 'date', sortable: true },
  ],
  anomalies: [
    { key: 'detectedAt', label: 'Détectée le', kind: 'datetime', sortable: true },
    { key: 'kind', label: 'Type', sortable: true },
    { key: 'message', label: 'Description' },
  ],
};

/** One detail table of a pharmacy, with tabs to the others, the period, and the CSV export. */
export function DataPage({ info, pharmacyId, table }: { info: PharmacyInfo; pharmacyId: string; table: string }) {
  const { query } = useLocation();
  const [period, setPeriod] = usePeriod(query);
  if (!(TABLES as readonly string[]).includes(table)) {
    return (
      <>
        <h1>Table inconnue</h1>
        <p>Choisissez une des tables ci-dessous.</p>
        <Tabs pharmacyId={pharmacyId} current={null} q={periodQuery(period)} />
      </>
    );
  }
  const t = table as TableName;
  return (
    <>
      <h1>Données détaillées : {TABLE_TITLES[t]}</h1>
      <PharmacyName info={info} />
      <Tabs pharmacyId={pharmacyId} current={t} q={periodQuery(period)} />
      <PeriodPicker value={period} onChange={setPeriod} />
      <DataTable<Row>
        key={t}
        caption={TABLE_TITLES[t]}
        testId={`table-${t}`}
        columns={COLUMNS[t]}
        deps={[pharmacyId, t, period.from, period.to]}
        rowKey={(r) => String(r.id ?? JSON.stringify(r))}
        load={(q, signal) => fetchTable<Row>(pharmacyId, t, period, q, signal)}
        exportHref={(q) => tableExportUrl(pharmacyId, t, period, q)}
      />
    </>
  );
}

function Tabs({ pharmacyId, current, q }: { pharmacyId: string; current: TableName | null; q: string }) {
  return (
    <nav aria-label="Tables de données" class="tabs">
      <ul>
        {TABLES.map((t) => (
          <li key={t}>
            <a href={`/app/pharmacies/${pharmacyId}/donnees/${t}${q}`} aria-current={t === current ? 'page' : undefined}>
              {TABLE_TITLES[t]}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
