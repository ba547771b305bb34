import { useMemo } from 'preact/hooks';
import { fetchStock, fetchTableRows, tableExportUrl, type TableName } from '../api/analytics';
import { clientSide, DataTable, type Column } from '../components/data-table';
import { ErrorNotice, Loading } from '../components/notice';
import { PeriodPicker, periodQuery, usePeriod } from '../components/period-picker';
import { PharmacyName, type PharmacyInfo } from '../components/pharmacy-gate';
import { useApi } from '../components/use-api';
import { formatCentsRounded, formatDate, formatDecimal, formatInteger } from '../format';
import { useLocation } from '../router';

type Page = TableName | 'stock';

/** French titles of the detail pages, in menu order. */
export const TABLE_LINKS: [Page, string][] = [
  ['mois', 'Ventes par mois'],
  ['ventes', 'Ventes par produit'],
  ['achats', 'Achats par fournisseur'],
  ['factures', 'Factures fournisseurs'],
  ['stock', 'Stock et rotation'],
  ['stock-dormant', 'Stock dormant'],
  ['anomalies', 'Anomalies'],
];
const TITLES = Object.fromEntries(TABLE_LINKS) as Record<Page, string>;

type Row = Record<string, unknown>;

const FAMILY: Record<string, string> = { reimbursable: 'Remboursable', non_reimbursable: 'Non remboursable', parapharmacy: 'Parapharmacie' };
const SUPPLIER_KIND: Record<string, string> = { wholesaler: 'Grossiste-répartiteur', lab: 'Laboratoire (direct)', other: 'Autre' };
const ANOMALY: Record<string, string> = { below_cost: 'Vente à perte', off_bdpm_price: 'Prix différent du prix BDPM', 'below_cost+off_bdpm_price': 'Vente à perte et prix hors BDPM' };

/** Columns per table (keys as the API returns them), French headers. */
const COLUMNS: Record<TableName, Column<Row>[]> = {
  mois: [
    { key: 'month', label: 'Mois', kind: 'month', sortable: true },
    { key: 'caTtcCents', label: 'CA TTC', kind: 'money', sortable: true },
    { key: 'caHtCents', label: 'CA HT', kind: 'money', sortable: true },
    { key: 'marginHtCents', label: 'Marge HT', kind: 'money', sortable: true },
    { key: 'tauxMarquePct', label: 'Taux de marque', kind: 'pct', sortable: true },
    { key: 'tickets', label: 'Tickets', kind: 'int', sortable: true },
  ],
  ventes: [
    { key: 'productCode', label: 'Code produit', sortable: true },
    { key: 'label', label: 'Libellé', sortable: true },
    { key: 'family', label: 'Famille', sortable: true, render: (r) => FAMILY[String(r.family)] ?? String(r.family ?? '—') },
    { key: 'units', label: 'Unités', kind: 'int', sortable: true },
    { key: 'caTtcCents', label: 'CA TTC', kind: 'money', sortable: true },
    { key: 'marginHtCents', label: 'Marge HT', kind: 'money', sortable: true },
    { key: 'tauxMarquePct', label: 'Taux de marque', kind: 'pct', sortable: true },
  ],
  achats: [
    { key: 'name', label: 'Fournisseur', sortable: true },
    { key: 'kind', label: 'Type', sortable: true, render: (r) => SUPPLIER_KIND[String(r.kind)] ?? String(r.kind ?? '—') },
    { key: 'units', label: 'Unités facturées', kind: 'int', sortable: true },
    { key: 'freeUnits', label: 'Unités gratuites', kind: 'int', sortable: true },
    { key: 'netHtCents', label: 'Montant net HT', kind: 'money', sortable: true },
    { key: 'effectiveDiscountPct', label: 'Remise effective', kind: 'pct', sortable: true },
    { key: 'overCapLines', label: 'Lignes au-delà du plafond', kind: 'int', sortable: true },
  ],
  factures: [
    { key: 'issuedOn', label: 'Date', kind: 'date', sortable: true },
    { key: 'supplier', label: 'Fournisseur', sortable: true },
    { key: 'invoiceNumber', label: 'Numéro', sortable: true },
    { key: 'lines', label: 'Lignes', kind: 'int', sortable: true },
    { key: 'totalHtCents', label: 'Total HT', kind: 'money', sortable: true },
    { key: 'totalTtcCents', label: 'Total TTC', kind: 'money', sortable: true },
    { key: 'dueOn', label: 'Échéance', kind: 'date', sortable: true },
    { key: 'hasFileHash', label: 'Pièce tracée', render: (r) => (r.hasFileHash ? 'oui' : 'non') },
  ],
  'stock-dormant': [
    { key: 'productCode', label: 'Code produit', sortable: true },
    { key: 'label', label: 'Libellé', sortable: true },
    { key: 'quantity', label: 'Quantité', kind: 'int', sortable: true },
    { key: 'valueHtCents', label: 'Valeur HT', kind: 'money', sortable: true },
    { key: 'lastSale', label: 'Dernière vente', kind: 'date', sortable: true },
  ],
  anomalies: [
    { key: 'soldAt', label: 'Date', kind: 'datetime', sortable: true },
    { key: 'kind', label: 'Anomalie', sortable: true, render: (r) => ANOMALY[String(r.kind)] ?? String(r.kind) },
    { key: 'productCode', label: 'Code produit', sortable: true },
    { key: 'label', label: 'Libellé', sortable: true },
    { key: 'quantity', label: 'Quantité', kind: 'int', sortable: true },
    { key: 'unitPriceTtcCents', label: 'Prix unitaire TTC', kind: 'money', sortable: true },
    { key: 'unitCostHtCents', label: 'Coût unitaire HT', kind: 'money', sortable: true },
    { key: 'bdpmPriceTtcCents', label: 'Prix BDPM TTC', kind: 'money', sortable: true },
  ],
};
const FILTER_KEYS: Record<TableName, string[]> = {
  mois: ['month'],
  ventes: ['productCode', 'label'],
  achats: ['name'],
  factures: ['supplier', 'invoiceNumber'],
  'stock-dormant': ['productCode', 'label'],
  anomalies: ['productCode', 'label'],
};

/** One detail view of a pharmacy, with tabs to the others, the period, and the CSV export. */
export function DataPage({ info, pharmacyId, table }: { info: PharmacyInfo; pharmacyId: string; table: string }) {
  const { query } = useLocation();
  const [period, setPeriod] = usePeriod(query);
  const known = table in TITLES;
  const page = table as Page;
  return (
    <>
      <h1>{known ? `Données détaillées : ${TITLES[page]}` : 'Table inconnue'}</h1>
      <PharmacyName info={info} />
      <Tabs pharmacyId={pharmacyId} current={known ? page : null} q={periodQuery(period)} />
      <PeriodPicker value={period} onChange={setPeriod} />
      {!known ? <p>Choisissez une des tables ci-dessus.</p> : page === 'stock' ? <StockView pharmacyId={pharmacyId} from={period.from} to={period.to} /> : <TableView pharmacyId={pharmacyId} table={page} from={period.from} to={period.to} />}
    </>
  );
}

function TableView({ pharmacyId, table, from, to }: { pharmacyId: string; table: TableName; from: string; to: string }) {
  // The rows of the period are fetched once; sorting, filtering and paging reuse them.
  const rows = useMemo(() => fetchTableRows<Row>(pharmacyId, table, { from, to }), [pharmacyId, table, from, to]);
  return (
    <DataTable<Row>
      key={table}
      caption={TITLES[table]}
      testId={`table-${table}`}
      columns={COLUMNS[table]}
      deps={[rows]}
      rowKey={(r) => JSON.stringify(r)}
      load={async (q) => clientSide(await rows, FILTER_KEYS[table])(q)}
      exportHref={() => tableExportUrl(pharmacyId, table, { from, to })}
      initialSort={table === 'mois' ? { key: 'month', order: 'asc' } : undefined}
    />
  );
}

function StockView({ pharmacyId, from, to }: { pharmacyId: string; from: string; to: string }) {
  const st = useApi((s) => fetchStock(pharmacyId, { from, to }, s), [pharmacyId, from, to]);
  if (st.error) return <ErrorNotice error={st.error} />;
  if (!st.data) return <Loading />;
  const d = st.data;
  return (
    <dl class="facts" data-testid="stock">
      <dt>Dernier inventaire reçu</dt>
      <dd>{formatDate(d.snapshotOn)}</dd>
      <dt>Valeur du stock HT</dt>
      <dd>{formatCentsRounded(d.valueHtCents)}</dd>
      <dt>Références / unités</dt>
      <dd>
        {formatInteger(d.products)} / {formatInteger(d.units)}
      </dd>
      <dt>Stock moyen HT sur la période</dt>
      <dd>{formatCentsRounded(d.averageValueHtCents)}</dd>
      <dt>Coût des ventes HT</dt>
      <dd>{formatCentsRounded(d.cogsHtCents)}</dd>
      <dt>Rotation</dt>
      <dd>{d.rotationDays === null ? '—' : `${formatDecimal(d.rotationDays)} jours de stock`}</dd>
      <dt>Stock dormant ({d.dormant.months} mois sans vente)</dt>
      <dd>
        {formatInteger(d.dormant.count)} références, {formatCentsRounded(d.dormant.valueHtCents)} HT
      </dd>
    </dl>
  );
}

function Tabs({ pharmacyId, current, q }: { pharmacyId: string; current: Page | null; q: string }) {
  return (
    <nav aria-label="Tables de données" class="tabs">
      <ul>
        {TABLE_LINKS.map(([t, title]) => (
          <li key={t}>
            <a href={`/app/pharmacies/${pharmacyId}/donnees/${t}${q}`} aria-current={t === current ? 'page' : undefined}>
              {title}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

