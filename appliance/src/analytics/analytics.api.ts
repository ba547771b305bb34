/**
 * The analytics API's JSON shapes (analytics.routes.ts), declared once for the server and
 * the web UI (`import type` on both sides; types only, see http/wire.api.ts). Money in
 * integer cents; ratios in % with two decimals (28.45 = 28,45 %), null when the
 * denominator is zero.
 */

/** A period of whole days, both ends included (YYYY-MM-DD, Europe/Paris business days). */
export interface Period {
  from: string;
  to: string;
}

/** The families a pharmacy's revenue splits into (the list is FAMILIES in analytics.service.ts). */
export type Family = 'reimbursable' | 'non_reimbursable' | 'parapharmacy';

/** Share of one family in the period. */
export interface FamilySplit {
  caTtcCents: number;
  caHtCents: number;
  marginHtCents: number;
  /** Share of the CA HT, in %. */
  sharePct: number | null;
}

/**
 * The pharmacist's KPIs for one period. Margin = CA HT (dispensing fees included) − cost
 * of goods sold HT at weighted average cost.
 */
export interface Kpis {
  caTtcCents: number;
  caHtCents: number;
  costHtCents: number;
  marginHtCents: number;
  feesTtcCents: number;
  /** Taux de marque = marge / CA HT. */
  tauxMarquePct: number | null;
  /** Taux de marge = marge / coût d'achat HT. */
  tauxMargePct: number | null;
  /** Coefficient = CA TTC / coût d'achat HT. */
  coefficient: number | null;
  /** Tickets with at least one sold line (credit notes excluded). */
  tickets: number;
  /** Panier moyen = CA TTC of sold lines (credit notes excluded) / tickets. */
  panierMoyenCents: number | null;
  unitsSold: number;
  /** Generic units / units of the répertoire (generic groups: generics + references). */
  genericSharePct: number | null;
  split: Record<Family, FamilySplit>;
}

/** `GET …/analytics/kpis`: KPIs with their comparisons. */
export interface KpiReport {
  period: Period;
  previousPeriod: Period;
  lastYearPeriod: Period;
  current: Kpis;
  previous: Kpis;
  lastYear: Kpis;
  /** Evolution in % of the main KPIs, against the previous period and last year. */
  evolution: Record<'caTtcCents' | 'caHtCents' | 'marginHtCents' | 'tickets' | 'panierMoyenCents', { vsPrevious: number | null; vsLastYear: number | null }>;
}

/**
 * One month of the series (`GET …/analytics/monthly` rows, and the dashboard's). A type
 * alias, not an interface, so the rows stay assignable to the CSV/JSON export's records.
 */
export type MonthRow = {
  /** YYYY-MM. */
  month: string;
  caTtcCents: number;
  caHtCents: number;
  marginHtCents: number;
  tauxMarquePct: number | null;
  tickets: number;
};

/** `GET …/analytics/dashboard`: KPIs with comparisons, monthly series, last stock snapshot. */
export interface Dashboard extends KpiReport {
  monthly: MonthRow[];
  stock: { snapshotOn: string; valueHtCents: number; products: number } | null;
}

/** `GET …/analytics/stock`: stock value (last snapshot of the period), rotation and dormant stock summary. */
export interface StockReport {
  period: Period;
  snapshotOn: string | null;
  valueHtCents: number;
  products: number;
  units: number;
  averageValueHtCents: number | null;
  cogsHtCents: number;
  /** Days of stock: average stock value / cost of goods sold × days of the period. */
  rotationDays: number | null;
  dormant: { months: number; count: number; valueHtCents: number };
}

/** The KPIs compared across pharmacies (the list is BENCHMARK_KPIS in benchmark.service.ts). */
export type BenchmarkKpi = 'caHtCents' | 'marginHtCents' | 'tauxMarquePct' | 'panierMoyenCents' | 'tickets' | 'genericSharePct';

/** One KPI across the consenting pharmacies. */
export interface BenchmarkLine {
  kpi: BenchmarkKpi;
  q1: number | null;
  median: number | null;
  q3: number | null;
  /** The viewing pharmacy's own value and rank (1 = highest), when a pharmacy asks. */
  value?: number | null;
  rank?: number | null;
}

/**
 * The benchmark answer (`GET /api/groupement/analytics/benchmark`); `pharmacies` lists only
 * those the viewer holds the detail permission on.
 */
export interface BenchmarkReport {
  period: Period;
  /** Pharmacy view: whether the pharmacy takes part (only participants see the others' aggregates). */
  granted?: boolean;
  peers: number;
  insufficient: boolean;
  kpis: BenchmarkLine[];
  pharmacies?: { pharmacyId: string; name: string; values: Record<BenchmarkKpi, number | null> }[];
}

/** `GET …/analytics/benchmark`: the pharmacy against the consenting pharmacies of its groupement. */
export interface PharmacyBenchmark extends BenchmarkReport {
  /** Whether this pharmacy takes part (consent); without it, nothing about the others. */
  granted: boolean;
}
