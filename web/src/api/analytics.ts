import { apiUrl, get } from './client';
import type { TablePage, TableQuery } from '../components/data-table';

/**
 * The analytics API as the UI uses it. Paths and shapes are in this one file so
 * that following the server (feat/data) means editing here, not in every page.
 */

/** A period of calendar days in Paris, both ends included (YYYY-MM-DD). */
export interface Period {
  from: string;
  to: string;
}

/** Headline figures of one period. Money in integer cents, ratios as fractions. */
export interface Kpis {
  revenueTtcCents: number;
  revenueHtCents: number;
  marginHtCents: number;
  markRate: number | null;
  basketAvgCents: number | null;
  genericShare: number | null;
  tickets?: number;
}

/** KPIs of a period and of the one before it (same length). */
export interface KpiComparison {
  period: Period;
  previousPeriod: Period;
  current: Kpis;
  previous: Kpis;
}

const base = (pharmacyId: string) => `/api/pharmacies/${encodeURIComponent(pharmacyId)}`;

/** KPI cards with period comparison. */
export function fetchKpis(pharmacyId: string, p: Period, signal?: AbortSignal): Promise<KpiComparison> {
  return get<KpiComparison>(`${base(pharmacyId)}/analytics/kpis`, { ...p }, signal);
}

/** Revenue and margin per day. */
export function fetchTimeseries(pharmacyId: string, p: Period, signal?: AbortSignal): Promise<{ points: { day: string; revenueHtCents: number; marginHtCents: number }[] }> {
  return get(`${base(pharmacyId)}/analytics/timeseries`, { ...p }, signal);
}

/** Revenue split by segment (reimbursable, non-reimbursable, parapharmacy). */
export function fetchSplit(pharmacyId: string, p: Period, signal?: AbortSignal): Promise<{ segments: { segment: string; revenueHtCents: number; marginHtCents: number }[] }> {
  return get(`${base(pharmacyId)}/analytics/split`, { ...p }, signal);
}

/** Purchases per supplier. */
export function fetchSupplierSpend(pharmacyId: string, p: Period, signal?: AbortSignal): Promise<{ suppliers: { supplier: string; spendHtCents: number }[] }> {
  return get(`${base(pharmacyId)}/analytics/suppliers`, { ...p }, signal);
}

/** French names of the revenue segments. */
export const SEGMENT_LABELS: Record<string, string> = {
  reimbursable: 'Médicaments remboursables',
  non_reimbursable: 'Médicaments non remboursables',
  parapharmacy: 'Parapharmacie',
};

/** The detail tables a pharmacy can browse and export. */
export const TABLES = ['ventes', 'achats', 'factures', 'stock', 'stock-dormant', 'anomalies'] as const;
export type TableName = (typeof TABLES)[number];

/** URL slug (French) → API name. */
export const TABLE_API: Record<TableName, string> = {
  ventes: 'sales',
  achats: 'purchases',
  factures: 'invoices',
  stock: 'stock',
  'stock-dormant': 'dormant-stock',
  anomalies: 'anomalies',
};

function tableParams(p: Period, q: TableQuery) {
  return { ...p, sort: q.sort, order: q.order, q: q.q, page: q.page, pageSize: q.pageSize };
}

/** One page of a detail table, filtered and sorted on the server. */
export function fetchTable<R>(pharmacyId: string, table: TableName, p: Period, q: TableQuery, signal?: AbortSignal): Promise<TablePage<R>> {
  return get<TablePage<R>>(`${base(pharmacyId)}/data/${TABLE_API[table]}`, tableParams(p, q), signal);
}

/** The CSV export of the same table, filter and sort (a plain GET: the browser downloads it). */
export function tableExportUrl(pharmacyId: string, table: TableName, p: Period, q: TableQuery): string {
  return apiUrl(`${base(pharmacyId)}/exports/${TABLE_API[table]}.csv`, { ...p, sort: q.sort, order: q.order, q: q.q });
}
