import { apiUrl, get } from './client';

/**
 * The analytics API (appliance/src/analytics/analytics.routes.ts) as the UI uses it.
 * Paths and shapes live in this one file. Money in integer cents; ratios in percent
 * with two decimals (28.45 = 28,45 %), null when the denominator is zero.
 */

/** A period of calendar days, both ends included (YYYY-MM-DD). */
export interface Period {
  from: string;
  to: string;
}

/** Revenue split families. */
export type Family = 'reimbursable' | 'non_reimbursable' | 'parapharmacy';

/** The pharmacist's KPIs for one period. */
export interface Kpis {
  caTtcCents: number;
  caHtCents: number;
  costHtCents: number;
  marginHtCents: number;
  feesTtcCents: number;
  tauxMarquePct: number | null;
  tauxMargePct: number | null;
  coefficient: number | null;
  tickets: number;
  panierMoyenCents: number | null;
  unitsSold: number;
  genericSharePct: number | null;
  split: Record<Family, { caTtcCents: number; caHtCents: number; marginHtCents: number; sharePct: number | null }>;
}

/** One month of the series. */
export interface MonthRow {
  month: string;
  caTtcCents: number;
  caHtCents: number;
  marginHtCents: number;
  tauxMarquePct: number | null;
  tickets: number;
}

/** `GET …/analytics/dashboard`: KPIs with comparisons, monthly series, last stock snapshot. */
export interface Dashboard {
  period: Period;
  previousPeriod: Period;
  lastYearPeriod: Period;
  current: Kpis;
  previous: Kpis;
  lastYear: Kpis;
  monthly: MonthRow[];
  stock: { snapshotOn: string; valueHtCents: number; products: number } | null;
}

/** `GET …/analytics/stock`. */
export interface StockReport {
  period: Period;
  snapshotOn: string | null;
  valueHtCents: number;
  products: number;
  units: number;
  averageValueHtCents: number | null;
  cogsHtCents: number;
  rotationDays: number | null;
  dormant: { months: number; count: number; valueHtCents: number };
}

const pharmacyBase = (pharmacyId: string) => `/api/pharmacies/${encodeURIComponent(pharmacyId)}`;
const base = (pharmacyId: string) => `${pharmacyBase(pharmacyId)}/analytics`;

/** The dashboard of a pharmacy for a period. */
export function fetchDashboard(pharmacyId: string, p: Period, signal?: AbortSignal): Promise<Dashboard> {
  return get<Dashboard>(`${base(pharmacyId)}/dashboard`, { ...p }, signal);
}

/** Stock value, rotation and dormant summary. */
export function fetchStock(pharmacyId: string, p: Period, signal?: AbortSignal): Promise<StockReport> {
  return get<StockReport>(`${base(pharmacyId)}/stock`, { ...p }, signal);
}

/** French names of the revenue families. */
export const FAMILY_LABELS: Record<Family, string> = {
  reimbursable: 'Médicaments remboursables',
  non_reimbursable: 'Médicaments non remboursables',
  parapharmacy: 'Parapharmacie',
};

/** The table views a pharmacy can browse and export (URL slug → API view and extra query). */
export const TABLE_VIEWS = {
  mois: { path: 'analytics/monthly', query: {} },
  ventes: { path: 'analytics/products', query: { by: 'revenue', order: 'top', limit: 1000 } },
  achats: { path: 'analytics/purchases', query: {} },
  factures: { path: 'invoices', query: {} },
  'stock-dormant': { path: 'analytics/dormant', query: { months: 6 } },
  anomalies: { path: 'analytics/anomalies', query: {} },
} as const;
export type TableName = keyof typeof TABLE_VIEWS;

/** Every table of a view: the whole period's rows (the server caps them); sorting and paging happen in the page. */
export async function fetchTableRows<R>(pharmacyId: string, table: TableName, p: Period, signal?: AbortSignal): Promise<R[]> {
  const v = TABLE_VIEWS[table];
  const r = await get<{ rows: R[] }>(`${pharmacyBase(pharmacyId)}/${v.path}`, { ...p, ...v.query }, signal);
  return r.rows;
}

/** The CSV export of the same view and period (the server sends it as an attachment, and audits it). */
export function tableExportUrl(pharmacyId: string, table: TableName, p: Period): string {
  const v = TABLE_VIEWS[table];
  return apiUrl(`${pharmacyBase(pharmacyId)}/${v.path}`, { ...p, ...v.query, format: 'csv' });
}

/** `GET /api/groupement/analytics/benchmark`: quartiles over consenting pharmacies; names only with the detail grant. */
export interface GroupBenchmark {
  period: Period;
  peers: number;
  insufficient: boolean;
  kpis: { kpi: BenchmarkKpi; q1: number | null; median: number | null; q3: number | null }[];
  pharmacies?: { pharmacyId: string; name: string; values: Record<BenchmarkKpi, number | null> }[];
}
export type BenchmarkKpi = 'caHtCents' | 'marginHtCents' | 'tauxMarquePct' | 'panierMoyenCents' | 'tickets' | 'genericSharePct';

/** The groupement benchmark for a period. */
export function fetchGroupBenchmark(p: Period, signal?: AbortSignal): Promise<GroupBenchmark> {
  return get<GroupBenchmark>('/api/groupement/analytics/benchmark', { ...p }, signal);
}

/** `GET …/analytics/benchmark`: the pharmacy against the consenting pharmacies of its groupement. */
export interface PharmacyBenchmark {
  period: Period;
  /** Whether this pharmacy takes part (consent); without it, nothing about the others. */
  granted: boolean;
  peers: number;
  insufficient: boolean;
  kpis: { kpi: BenchmarkKpi; q1: number | null; median: number | null; q3: number | null; value?: number | null; rank?: number | null }[];
}

/** The pharmacy's position in the groupement for a period. */
export function fetchPharmacyBenchmark(pharmacyId: string, p: Period, signal?: AbortSignal): Promise<PharmacyBenchmark> {
  return get<PharmacyBenchmark>(`${base(pharmacyId)}/benchmark`, { ...p }, signal);
}

/** French names of the benchmark KPIs. */
export const BENCHMARK_LABELS: Record<BenchmarkKpi, string> = {
  caHtCents: 'CA HT',
  marginHtCents: 'Marge HT',
  tauxMarquePct: 'Taux de marque',
  panierMoyenCents: 'Panier moyen TTC',
  tickets: 'Tickets',
  genericSharePct: 'Part des génériques',
};
