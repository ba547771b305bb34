import type { DataSource } from 'typeorm';
import { AppError } from '../http/errors.js';
import { AnalyticsRepository } from './analytics.repository.js';
import type { SameUnion } from '../http/wire.api.js';
import type { BenchmarkKpi, BenchmarkLine, BenchmarkReport, Kpis, PharmacyBenchmark, Period } from './analytics.api.js';
import { kpisFromSums, round } from './analytics.service.js';
import { checkPeriod } from './period.js';

/** The KPIs compared across pharmacies. */
export const BENCHMARK_KPIS = ['caHtCents', 'marginHtCents', 'tauxMarquePct', 'panierMoyenCents', 'tickets', 'genericSharePct'] as const;
type _BenchmarkKpisListed = SameUnion<(typeof BENCHMARK_KPIS)[number], BenchmarkKpi>;

/** Below this many consenting pharmacies, quartiles would nearly identify them: nothing is shown. */
export const MIN_PEERS = 3;

/** Linear-interpolated quantile (like percentile_cont) of sorted values. */
export function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Groupement benchmark over the pharmacies that granted it: per KPI the quartiles
 * and median, the asking pharmacy's rank — and other pharmacies' identities only
 * for a viewer holding the detail permission.
 */
export class BenchmarkService {
  private readonly repo: AnalyticsRepository;

  constructor(db: DataSource) {
    this.repo = new AnalyticsRepository(db);
  }

  /** A pharmacy's view: its rank among its groupement's consenting pharmacies (it must have consented). */
  async forPharmacy(pharmacyId: string, period: Period): Promise<PharmacyBenchmark> {
    const ph = await this.repo.pharmacy(pharmacyId);
    if (!ph) throw new AppError(404, 'pharmacy_not_found', 'Pharmacie inconnue.');
    // Not participating: nothing about the others, and the UI offers to join.
    if (!ph.consent) return { period: checkPeriod(period), granted: false, peers: 0, insufficient: true, kpis: [] };
    return { ...(await this.compute(ph.groupementId, period, { viewerPharmacyId: pharmacyId, revealPharmacyIds: new Set() })), granted: true };
  }

  /**
   * The groupement's view: aggregates; a pharmacy's identity and values appear only
   * if it is in `revealPharmacyIds` (those the viewer holds the detail permission on).
   */
  async forGroupement(groupementId: string, period: Period, opts: { revealPharmacyIds: ReadonlySet<string> }): Promise<BenchmarkReport> {
    return this.compute(groupementId, period, { revealPharmacyIds: opts.revealPharmacyIds });
  }

  private async compute(
    groupementId: string,
    period: Period,
    opts: { viewerPharmacyId?: string; revealPharmacyIds: ReadonlySet<string> },
  ): Promise<BenchmarkReport> {
    checkPeriod(period);
    const rows = await this.repo.benchmarkSums(groupementId, period);
    if (rows.length < MIN_PEERS) return { period, peers: rows.length, insufficient: true, kpis: [] };
    const values = rows.map((r) => ({ id: r.pharmacyId, name: r.name, k: kpisFromSums(r, r.tickets) as Kpis }));
    const kpis = BENCHMARK_KPIS.map((kpi): BenchmarkLine => {
      const vals = values.map((v) => v.k[kpi]).filter((x): x is number => x !== null).sort((a, b) => a - b);
      const line: BenchmarkLine = {
        kpi,
        q1: nullableRound(quantile(vals, 0.25)),
        median: nullableRound(quantile(vals, 0.5)),
        q3: nullableRound(quantile(vals, 0.75)),
      };
      if (opts.viewerPharmacyId) {
        const own = values.find((v) => v.id === opts.viewerPharmacyId)?.k[kpi] ?? null;
        line.value = own;
        line.rank = own === null ? null : 1 + vals.filter((x) => x > own).length;
      }
      return line;
    });
    const report: BenchmarkReport = { period, peers: rows.length, insufficient: false, kpis };
    const revealed = values.filter((v) => opts.revealPharmacyIds.has(v.id));
    if (revealed.length) {
      report.pharmacies = revealed.map((v) => ({
        pharmacyId: v.id,
        name: v.name,
        values: Object.fromEntries(BENCHMARK_KPIS.map((kpi) => [kpi, v.k[kpi]])) as Record<BenchmarkKpi, number | null>,
      }));
    }
    return report;
  }
}

function nullableRound(x: number | null): number | null {
  return x === null ? null : round(x, 2);
}
