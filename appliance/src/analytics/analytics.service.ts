import type { DataSource } from 'typeorm';
import { AppError } from '../http/errors.js';
import { AnalyticsRepository, type NamedPeriod, type SalesSums } from './analytics.repository.js';
import { checkPeriod, lastYearPeriod, periodDays, previousPeriod } from './period.js';
import type { Dashboard, Family, FamilySplit, KpiReport, Kpis, MonthRow, Period, StockReport } from './analytics.api.js';
import type { SameUnion } from '../http/wire.api.js';

/** The families a pharmacy's revenue splits into. */
export const FAMILIES = ['reimbursable', 'non_reimbursable', 'parapharmacy'] as const;
type _FamiliesListed = SameUnion<(typeof FAMILIES)[number], Family>;

/** Rounds to `d` decimals, half away from zero. */
export function round(x: number, d = 2): number {
  const f = 10 ** d;
  return Math.sign(x) * Math.round(Math.abs(x) * f + Number.EPSILON) / f;
}
const pct = (num: number, den: number): number | null => (den === 0 ? null : round((num / den) * 100));
const evolution = (cur: number | null, ref: number | null): number | null =>
  cur === null || ref === null || ref === 0 ? null : round(((cur - ref) / Math.abs(ref)) * 100);

type Sums = Omit<SalesSums, 'period' | 'family'>;
const ZERO: Sums = { ttc: 0, ht: 0, cost: 0, fees: 0, salesTtc: 0, units: 0, soldUnits: 0, genericUnits: 0, repertoireUnits: 0 };
function add(a: Sums, b: Sums): Sums {
  const out = { ...a };
  for (const k of Object.keys(ZERO) as (keyof Sums)[]) out[k] = a[k] + b[k];
  return out;
}

/** KPIs from sums (shared by the pharmacy view and the groupement benchmark). */
export function kpisFromSums(s: Sums, tickets: number, byFamily: Partial<Record<Family, Sums>> = {}): Kpis {
  const margin = s.ht - s.cost;
  const split = {} as Record<Family, FamilySplit>;
  for (const f of FAMILIES) {
    const x = byFamily[f] ?? ZERO;
    split[f] = { caTtcCents: x.ttc, caHtCents: x.ht, marginHtCents: x.ht - x.cost, sharePct: pct(x.ht, s.ht) };
  }
  return {
    caTtcCents: s.ttc,
    caHtCents: s.ht,
    costHtCents: s.cost,
    marginHtCents: margin,
    feesTtcCents: s.fees,
    tauxMarquePct: pct(margin, s.ht),
    tauxMargePct: pct(margin, s.cost),
    coefficient: s.cost === 0 ? null : round(s.ttc / s.cost, 3),
    tickets,
    panierMoyenCents: tickets === 0 ? null : round(s.salesTtc / tickets, 0),
    unitsSold: s.soldUnits,
    genericSharePct: pct(s.genericUnits, s.repertoireUnits),
    split,
  };
}

/**
 * The pharmacy's profitability analytics. Every method takes the pharmacy id first:
 * the caller (a route) passes the tenant it resolved, never a value from the request body.
 */
export class AnalyticsService {
  private readonly repo: AnalyticsRepository;

  constructor(db: DataSource) {
    this.repo = new AnalyticsRepository(db);
  }

  /** KPIs of a period, of the previous period of the same length and of the same period last year. */
  async kpis(pharmacyId: string, period: Period): Promise<KpiReport> {
    checkPeriod(period);
    const periods: NamedPeriod[] = [
      { name: 'current', ...period },
      { name: 'previous', ...previousPeriod(period) },
      { name: 'lastYear', ...lastYearPeriod(period) },
    ];
    const [sums, tickets] = await Promise.all([this.repo.salesSums(pharmacyId, periods), this.repo.tickets(pharmacyId, periods)]);
    const k = {} as Record<string, Kpis>;
    for (const p of periods) {
      const rows = sums.filter((r) => r.period === p.name && r.family !== null);
      const byFamily: Partial<Record<Family, Sums>> = {};
      let total = ZERO;
      for (const r of rows) {
        byFamily[r.family as Family] = r;
        total = add(total, r);
      }
      k[p.name] = kpisFromSums(total, tickets.get(p.name) ?? 0, byFamily);
    }
    const cur = k.current!;
    const evo = {} as KpiReport['evolution'];
    for (const key of ['caTtcCents', 'caHtCents', 'marginHtCents', 'tickets', 'panierMoyenCents'] as const) {
      evo[key] = { vsPrevious: evolution(cur[key], k.previous![key]), vsLastYear: evolution(cur[key], k.lastYear![key]) };
    }
    const bare = (p: NamedPeriod): Period => ({ from: p.from, to: p.to });
    return { period, previousPeriod: bare(periods[1]!), lastYearPeriod: bare(periods[2]!), current: cur, previous: k.previous!, lastYear: k.lastYear!, evolution: evo };
  }

  /** The pharmacy dashboard: KPIs with comparisons, the monthly series and the stock value. */
  async dashboard(pharmacyId: string, period: Period): Promise<Dashboard> {
    const [kpis, monthly, stock] = await Promise.all([
      this.kpis(pharmacyId, period),
      this.monthly(pharmacyId, period),
      this.repo.stockRollups(pharmacyId, period),
    ]);
    return {
      ...kpis,
      monthly,
      stock: stock.last ? { snapshotOn: stock.last.day, valueHtCents: stock.last.value, products: stock.last.products } : null,
    };
  }

  /** Monthly CA, margin and tickets. */
  async monthly(pharmacyId: string, period: Period): Promise<MonthRow[]> {
    checkPeriod(period);
    return (await this.repo.monthly(pharmacyId, period)).map((m) => ({
      month: m.month,
      caTtcCents: m.ttc,
      caHtCents: m.ht,
      marginHtCents: m.ht - m.cost,
      tauxMarquePct: pct(m.ht - m.cost, m.ht),
      tickets: m.tickets,
    }));
  }

  /** Best (top) or worst (flop) products by margin or revenue. */
  async products(pharmacyId: string, period: Period, opts: { by: 'margin' | 'revenue'; order: 'top' | 'flop'; limit: number }) {
    checkPeriod(period);
    return (await this.repo.products(pharmacyId, period, opts.by, opts.order, opts.limit)).map((p) => ({
      productCode: p.productCode,
      label: p.label,
      family: p.family,
      units: p.units,
      caTtcCents: p.ttc,
      caHtCents: p.ht,
      costHtCents: p.cost,
      marginHtCents: p.margin,
      tauxMarquePct: pct(p.margin, p.ht),
    }));
  }

  /** Purchases per supplier, effective discount (free units included) and discount-cap compliance. */
  async purchasesBySupplier(pharmacyId: string, period: Period) {
    checkPeriod(period);
    return (await this.repo.purchasesBySupplier(pharmacyId, period)).map((s) => ({
      supplierId: s.supplierId,
      name: s.name,
      kind: s.kind,
      lines: s.lines,
      units: s.units,
      freeUnits: s.freeUnits,
      listHtCents: s.listHt,
      netHtCents: s.netHt,
      /** 1 − net / (list price × (units + free units)), in %. */
      effectiveDiscountPct: s.listHt === 0 ? null : round((1 - s.netHt / s.listHt) * 100),
      overCapLines: s.overCapLines,
      overCapExcessHtCents: s.overCapExcessHt,
    }));
  }

  /** Stock value (last snapshot of the period), rotation and dormant stock summary. */
  async stock(pharmacyId: string, period: Period, dormantMonths = 6): Promise<StockReport> {
    checkPeriod(period);
    const [{ inPeriod, last }, sums] = await Promise.all([
      this.repo.stockRollups(pharmacyId, period),
      this.repo.salesSums(pharmacyId, [{ name: 'current', ...period }]),
    ]);
    const cogs = sums.reduce((a, r) => a + r.cost, 0);
    const values = inPeriod.length ? inPeriod.map((r) => r.value) : last ? [last.value] : [];
    const avg = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
    const dormant = last ? await this.repo.dormant(pharmacyId, last.day, dormantMonths) : [];
    return {
      period,
      snapshotOn: last?.day ?? null,
      valueHtCents: last?.value ?? 0,
      products: last?.products ?? 0,
      units: last?.units ?? 0,
      averageValueHtCents: avg === null ? null : round(avg, 0),
      cogsHtCents: cogs,
      rotationDays: avg === null || cogs <= 0 ? null : round((avg / cogs) * periodDays(period), 1),
      dormant: { months: dormantMonths, count: dormant.length, valueHtCents: dormant.reduce((a, d) => a + d.valueHt, 0) },
    };
  }

  /** Products in stock with no sale in the last `months` months (as of the last snapshot of the period). */
  async dormant(pharmacyId: string, period: Period, months = 6) {
    checkPeriod(period);
    const { last } = await this.repo.stockRollups(pharmacyId, period);
    if (!last) return [];
    return (await this.repo.dormant(pharmacyId, last.day, months)).map((d) => ({
      productCode: d.productCode,
      label: d.label,
      quantity: d.quantity,
      wacHtCents: d.wacHt,
      valueHtCents: d.valueHt,
      lastSale: d.lastSale,
    }));
  }

  /** Sales below cost and reimbursable drugs sold off their BDPM price. */
  async anomalies(pharmacyId: string, period: Period, limit = 500) {
    checkPeriod(period);
    return (await this.repo.anomalies(pharmacyId, period, limit)).map((a) => ({
      kind: [a.belowCost ? 'below_cost' : null, a.offBdpmPrice ? 'off_bdpm_price' : null].filter(Boolean).join('+'),
      soldAt: new Date(a.soldAt).toISOString(),
      ticketId: a.ticketId,
      sourceId: a.sourceId,
      productCode: a.productCode,
      label: a.label,
      quantity: a.quantity,
      unitPriceTtcCents: a.unitPriceTtc,
      unitPriceHtCents: round(a.unitPriceTtc / (1 + a.vatRate / 100), 0),
      unitCostHtCents: a.unitCostHt,
      bdpmPriceTtcCents: a.bdpmPriceTtc,
    }));
  }

  /** Grants or withdraws the pharmacy's consent to the groupement benchmark. */
  async setBenchmarkConsent(pharmacyId: string, granted: boolean): Promise<void> {
    if (!(await this.repo.pharmacy(pharmacyId))) throw new AppError(404, 'pharmacy_not_found', 'Pharmacie inconnue.');
    await this.repo.setConsent(pharmacyId, granted);
  }
}
