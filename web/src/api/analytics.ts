import type { BenchmarkKpi, BenchmarkReport, Dashboard, Family, PharmacyBenchmark, Period, StockReport } from '../../../appliance/src/analytics/analytics.api';
import { apiUrl, get } from './client';

/**
 * The analytics API (appliance/src/analytics/analytics.routes.ts) as the UI uses it.
 * Paths live in this one file; the JSON shapes are the server's (analytics.api.ts).
 * Money in integer cents; ratios in percent with two decimals (28.45 = 28,45 %), null
 * when the denominator is zero.
 */

/** The server's shapes the pages name (one definition for both sides). */
export type { BenchmarkKpi, Family, Period };

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

/** The groupement benchmark for a period. */
export function fetchGroupBenchmark(p: Period, signal?: AbortSignal): Promise<BenchmarkReport> {
  return get<BenchmarkReport>('/api/groupement/analytics/benchmark', { ...p }, signal);
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
