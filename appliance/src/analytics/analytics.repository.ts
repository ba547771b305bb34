import type { DataSource, EntityManager } from 'typeorm';
import { segments, type Period } from './period.js';

/** Sums of the sales rollup for one period and one family. */
export interface SalesSums {
  period: string;
  family: string | null;
  ttc: number;
  ht: number;
  cost: number;
  fees: number;
  salesTtc: number;
  units: number;
  soldUnits: number;
  genericUnits: number;
  repertoireUnits: number;
}

/** A named period for the multi-period queries. */
export interface NamedPeriod extends Period {
  name: string;
}

const SUMS = `coalesce(sum(r.amount_ttc_cents), 0)::float8 AS ttc, coalesce(sum(r.amount_ht_cents), 0)::float8 AS ht,
  coalesce(sum(r.cost_ht_cents), 0)::float8 AS cost, coalesce(sum(r.fee_ttc_cents), 0)::float8 AS fees,
  coalesce(sum(r.sales_ttc_cents), 0)::float8 AS "salesTtc", coalesce(sum(r.quantity), 0)::float8 AS units,
  coalesce(sum(r.sold_quantity), 0)::float8 AS "soldUnits",
  coalesce(sum(r.sold_quantity) FILTER (WHERE r.generic_kind = 'generic'), 0)::float8 AS "genericUnits",
  coalesce(sum(r.sold_quantity) FILTER (WHERE r.generic_kind <> 'none'), 0)::float8 AS "repertoireUnits"`;

/**
 * VALUES list of the named periods cut into month and day segments, as
 * `s(name, kind, f, t)`, with its parameters numbered from `offset`.
 */
function segmentValues(periods: NamedPeriod[], offset: number): { sql: string; params: string[] } {
  const rows: string[] = [];
  const params: string[] = [];
  for (const p of periods) {
    for (const seg of segments(p)) {
      const i = offset + params.length;
      rows.push(`($${i}::text, $${i + 1}::text, $${i + 2}::date, $${i + 3}::date)`);
      params.push(p.name, seg.kind, seg.from, seg.to);
    }
  }
  return { sql: `(VALUES ${rows.join(', ')}) AS s(name, kind, f, t)`, params };
}

const CELL_COLS = `family, generic_kind, amount_ttc_cents, amount_ht_cents, cost_ht_cents, fee_ttc_cents, sales_ttc_cents, quantity, sold_quantity`;

/** Rollup rows of the segment `s`, from the monthly or the daily rollup; `who` filters pharmacies. */
function cellsOf(who: string, extra = ''): string {
  return `SELECT ${extra}${CELL_COLS} FROM sales_month_rollups m WHERE s.kind = 'month' AND m.pharmacy_id ${who} AND m.month BETWEEN s.f AND s.t
    UNION ALL
    SELECT ${extra.replace(/\bmonth\b/g, "date_trunc('month', day)::date")}${CELL_COLS} FROM sales_rollups d WHERE s.kind = 'day' AND d.pharmacy_id ${who} AND d.day BETWEEN s.f AND s.t`;
}

/** Ticket counts of the segment `s`. */
function ticketsOf(who: string, extra = ''): string {
  return `SELECT ${extra}tickets FROM sales_month_tickets m WHERE s.kind = 'month' AND m.pharmacy_id ${who} AND m.month BETWEEN s.f AND s.t
    UNION ALL
    SELECT ${extra.replace(/\bmonth\b/g, "date_trunc('month', day)::date")}tickets FROM sales_day_rollups d WHERE s.kind = 'day' AND d.pharmacy_id ${who} AND d.day BETWEEN s.f AND s.t`;
}

/**
 * Analytics SQL. Every query is tenant-scoped: it takes the pharmacy id (or the
 * groupement's consenting pharmacies) first, matching the leading index column.
 * Dashboards read the rollups; product, purchase, stock and anomaly views read facts.
 */
export class AnalyticsRepository {
  constructor(private readonly db: DataSource | EntityManager) {}

  /** Rollup sums per named period and family (whole months from the monthly rollup). */
  async salesSums(pharmacyId: string, periods: NamedPeriod[]): Promise<SalesSums[]> {
    const v = segmentValues(periods, 2);
    return (await this.db.query(
      `SELECT s.name AS period, r.family, ${SUMS}
       FROM ${v.sql} LEFT JOIN LATERAL (${cellsOf('= $1')}) r ON true
       GROUP BY s.name, r.family`,
      [pharmacyId, ...v.params],
    )) as SalesSums[];
  }

  /** Tickets (non credit-note) per named period. */
  async tickets(pharmacyId: string, periods: NamedPeriod[]): Promise<Map<string, number>> {
    const v = segmentValues(periods, 2);
    const rows = (await this.db.query(
      `SELECT s.name, coalesce(sum(x.tickets), 0)::float8 AS tickets
       FROM ${v.sql} LEFT JOIN LATERAL (${ticketsOf('= $1')}) x ON true GROUP BY s.name`,
      [pharmacyId, ...v.params],
    )) as { name: string; tickets: number }[];
    return new Map(rows.map((r) => [r.name, r.tickets]));
  }

  /** Monthly series over a period (rollups). */
  async monthly(pharmacyId: string, p: Period): Promise<{ month: string; ttc: number; ht: number; cost: number; tickets: number }[]> {
    const v = segmentValues([{ name: 'p', ...p }], 2);
    return (await this.db.query(
      `WITH s AS (
         SELECT r.month AS m, sum(r.amount_ttc_cents)::float8 AS ttc, sum(r.amount_ht_cents)::float8 AS ht, sum(r.cost_ht_cents)::float8 AS cost
         FROM ${v.sql} JOIN LATERAL (${cellsOf('= $1', 'month, ')}) r ON true GROUP BY 1
       ), t AS (
         SELECT x.month AS m, sum(x.tickets)::float8 AS tickets
         FROM ${v.sql} JOIN LATERAL (${ticketsOf('= $1', 'month, ')}) x ON true GROUP BY 1
       )
       SELECT to_char(coalesce(s.m, t.m), 'YYYY-MM') AS month, coalesce(s.ttc, 0) AS ttc, coalesce(s.ht, 0) AS ht,
              coalesce(s.cost, 0) AS cost, coalesce(t.tickets, 0) AS tickets
       FROM s FULL JOIN t ON t.m = s.m ORDER BY 1`,
      [pharmacyId, ...v.params],
    )) as { month: string; ttc: number; ht: number; cost: number; tickets: number }[];
  }

  /** Products ranked by margin (or revenue), best or worst first, from the facts. */
  async products(pharmacyId: string, p: Period, by: 'margin' | 'revenue', order: 'top' | 'flop', limit: number) {
    const key = by === 'margin' ? 'margin' : 'ht';
    return (await this.db.query(
      `WITH a AS (
         SELECT product_code, min(family) AS family, sum(quantity)::float8 AS units, sum(amount_ttc_cents)::float8 AS ttc,
                sum(amount_ht_cents)::float8 AS ht, sum(cost_ht_cents)::float8 AS cost, sum(amount_ht_cents - cost_ht_cents)::float8 AS margin
         FROM sales_lines WHERE pharmacy_id = $1 AND sale_day BETWEEN $2 AND $3 GROUP BY product_code
         ORDER BY ${key} ${order === 'top' ? 'DESC' : 'ASC'}, product_code LIMIT $4
       )
       SELECT a.product_code AS "productCode", coalesce(p.label, pp.label, a.product_code) AS label, a.family, a.units, a.ttc, a.ht, a.cost, a.margin
       FROM a LEFT JOIN products p ON p.code = a.product_code LEFT JOIN pharmacy_products pp ON pp.pharmacy_id = $1 AND pp.code = a.product_code
       ORDER BY ${key} ${order === 'top' ? 'DESC' : 'ASC'}, a.product_code`,
      [pharmacyId, p.from, p.to, limit],
    )) as { productCode: string; label: string; family: string; units: number; ttc: number; ht: number; cost: number; margin: number }[];
  }

  /**
   * Received purchases per supplier: amounts at list price (free units valued too)
   * and net, and the lines whose effective discount (free units included) exceeds
   * the regulatory cap in force on their day.
   */
  async purchasesBySupplier(pharmacyId: string, p: Period) {
    return (await this.db.query(
      `WITH pl AS (
         SELECT l.*, CASE WHEN l.family = 'reimbursable' AND l.generic_kind = 'generic' THEN 'generic'
                          WHEN l.family = 'reimbursable' THEN 'reimbursable_reference' END AS cap_code
         FROM purchase_lines l WHERE l.pharmacy_id = $1 AND l.status = 'received' AND l.purchase_day BETWEEN $2 AND $3
       ), c AS (
         SELECT pl.*, rp.value AS cap_pct,
                (rp.value IS NOT NULL AND (pl.list_amount_ht_cents - pl.net_amount_ht_cents) * 100 > rp.value * pl.list_amount_ht_cents) AS over_cap
         FROM pl LEFT JOIN regulatory_parameters rp ON rp.kind = 'discount_cap' AND rp.code = pl.cap_code
           AND pl.purchase_day >= rp.valid_from AND (rp.valid_to IS NULL OR pl.purchase_day < rp.valid_to)
       )
       SELECT c.supplier_source_id AS "supplierId", s.name, s.kind, count(*)::int AS lines, sum(c.quantity)::float8 AS units,
              sum(c.free_units)::float8 AS "freeUnits", sum(c.list_amount_ht_cents)::float8 AS "listHt", sum(c.net_amount_ht_cents)::float8 AS "netHt",
              count(*) FILTER (WHERE c.over_cap)::int AS "overCapLines",
              coalesce(sum(round((c.list_amount_ht_cents - c.net_amount_ht_cents) - c.cap_pct * c.list_amount_ht_cents / 100)) FILTER (WHERE c.over_cap), 0)::float8 AS "overCapExcessHt"
       FROM c JOIN suppliers s ON s.pharmacy_id = $1 AND s.source_id = c.supplier_source_id
       GROUP BY c.supplier_source_id, s.name, s.kind ORDER BY "netHt" DESC, c.supplier_source_id`,
      [pharmacyId, p.from, p.to],
    )) as { supplierId: string; name: string; kind: string; lines: number; units: number; freeUnits: number; listHt: number; netHt: number; overCapLines: number; overCapExcessHt: number }[];
  }

  /** Stock rollup rows of a period, and the last one on or before its end. */
  async stockRollups(pharmacyId: string, p: Period) {
    const inPeriod = (await this.db.query(
      `SELECT snapshot_on::text AS day, value_ht_cents::float8 AS value FROM stock_rollups
       WHERE pharmacy_id = $1 AND snapshot_on BETWEEN $2 AND $3 ORDER BY snapshot_on`,
      [pharmacyId, p.from, p.to],
    )) as { day: string; value: number }[];
    const [last] = (await this.db.query(
      `SELECT snapshot_on::text AS day, products, units::float8 AS units, value_ht_cents::float8 AS value FROM stock_rollups
       WHERE pharmacy_id = $1 AND snapshot_on <= $2 ORDER BY snapshot_on DESC LIMIT 1`,
      [pharmacyId, p.to],
    )) as { day: string; products: number; units: number; value: number }[];
    return { inPeriod, last: last ?? null };
  }

  /** Products in stock on `snapshotOn` with no positive sale in the `months` before it. */
  async dormant(pharmacyId: string, snapshotOn: string, months: number) {
    return (await this.db.query(
      `SELECT s.product_code AS "productCode", coalesce(p.label, pp.label, s.product_code) AS label, s.quantity, s.wac_ht_cents AS "wacHt",
              s.value_ht_cents::float8 AS "valueHt", ls.last_sale::text AS "lastSale"
       FROM stock_snapshots s
       LEFT JOIN LATERAL (
         SELECT max(l.sale_day) AS last_sale FROM sales_lines l
         WHERE l.pharmacy_id = $1 AND l.product_code = s.product_code AND l.quantity > 0 AND l.sale_day <= s.snapshot_on
       ) ls ON true
       LEFT JOIN products p ON p.code = s.product_code
       LEFT JOIN pharmacy_products pp ON pp.pharmacy_id = $1 AND pp.code = s.product_code
       WHERE s.pharmacy_id = $1 AND s.snapshot_on = $2 AND s.quantity > 0
         AND (ls.last_sale IS NULL OR ls.last_sale <= ($2::date - make_interval(months => $3))::date)
       ORDER BY s.value_ht_cents DESC, s.product_code`,
      [pharmacyId, snapshotOn, months],
    )) as { productCode: string; label: string; quantity: number; wacHt: number; valueHt: number; lastSale: string | null }[];
  }

  /** Sales below cost, and reimbursable drugs sold at another price than the BDPM's. */
  async anomalies(pharmacyId: string, p: Period, limit: number) {
    return (await this.db.query(
      `SELECT l.source_id AS "sourceId", l.ticket_id AS "ticketId", l.sold_at AS "soldAt", l.product_code AS "productCode",
              coalesce(p.label, pp.label, l.product_code) AS label, l.quantity, l.unit_price_ttc_cents AS "unitPriceTtc",
              l.vat_rate::float8 AS "vatRate", l.unit_cost_ht_cents AS "unitCostHt", p.price_ttc_cents AS "bdpmPriceTtc",
              (l.unit_price_ttc_cents * 100 < l.unit_cost_ht_cents * (100 + l.vat_rate)) AS "belowCost",
              (p.family = 'reimbursable' AND p.price_ttc_cents IS NOT NULL AND l.unit_price_ttc_cents <> p.price_ttc_cents) AS "offBdpmPrice"
       FROM sales_lines l
       LEFT JOIN products p ON p.code = l.product_code
       LEFT JOIN pharmacy_products pp ON pp.pharmacy_id = $1 AND pp.code = l.product_code
       WHERE l.pharmacy_id = $1 AND l.sale_day BETWEEN $2 AND $3 AND l.quantity > 0
         AND (l.unit_price_ttc_cents * 100 < l.unit_cost_ht_cents * (100 + l.vat_rate)
              OR (p.family = 'reimbursable' AND p.price_ttc_cents IS NOT NULL AND l.unit_price_ttc_cents <> p.price_ttc_cents))
       ORDER BY l.sold_at, l.source_id LIMIT $4`,
      [pharmacyId, p.from, p.to, limit],
    )) as { sourceId: string; ticketId: string; soldAt: Date; productCode: string; label: string; quantity: number; unitPriceTtc: number; vatRate: number; unitCostHt: number; bdpmPriceTtc: number | null; belowCost: boolean; offBdpmPrice: boolean }[];
  }

  /** Groupement and consent of a pharmacy. */
  async pharmacy(pharmacyId: string): Promise<{ groupementId: string; consent: boolean } | null> {
    const [r] = (await this.db.query(
      `SELECT p.groupement_id AS "groupementId", (c.pharmacy_id IS NOT NULL) AS consent
       FROM pharmacies p LEFT JOIN benchmark_consents c ON c.pharmacy_id = p.id WHERE p.id = $1`,
      [pharmacyId],
    )) as { groupementId: string; consent: boolean }[];
    return r ?? null;
  }

  /** Per consenting pharmacy of a groupement: the sums the benchmark KPIs need. */
  async benchmarkSums(groupementId: string, p: Period) {
    const v = segmentValues([{ name: 'p', ...p }], 2);
    const peers = `IN (SELECT id FROM peers)`;
    return (await this.db.query(
      `WITH peers AS (
         SELECT ph.id, ph.name FROM pharmacies ph JOIN benchmark_consents c ON c.pharmacy_id = ph.id WHERE ph.groupement_id = $1
       ), s AS (
         SELECT r.pharmacy_id, ${SUMS} FROM ${v.sql} JOIN LATERAL (${cellsOf(peers, 'pharmacy_id, ')}) r ON true GROUP BY r.pharmacy_id
       ), t AS (
         SELECT x.pharmacy_id, sum(x.tickets)::float8 AS tickets FROM ${v.sql} JOIN LATERAL (${ticketsOf(peers, 'pharmacy_id, ')}) x ON true GROUP BY x.pharmacy_id
       )
       SELECT peers.id AS "pharmacyId", peers.name, coalesce(s.ttc, 0) AS ttc, coalesce(s.ht, 0) AS ht, coalesce(s.cost, 0) AS cost,
              coalesce(s.fees, 0) AS fees, coalesce(s."salesTtc", 0) AS "salesTtc", coalesce(s.units, 0) AS units,
              coalesce(s."soldUnits", 0) AS "soldUnits", coalesce(s."genericUnits", 0) AS "genericUnits",
              coalesce(s."repertoireUnits", 0) AS "repertoireUnits", coalesce(t.tickets, 0) AS tickets
       FROM peers LEFT JOIN s ON s.pharmacy_id = peers.id LEFT JOIN t ON t.pharmacy_id = peers.id ORDER BY peers.id`,
      [groupementId, ...v.params],
    )) as (Omit<SalesSums, 'period' | 'family'> & { pharmacyId: string; name: string; tickets: number })[];
  }

  /** Grants or withdraws a pharmacy's benchmark consent. */
  async setConsent(pharmacyId: string, granted: boolean): Promise<void> {
    if (granted) await this.db.query(`INSERT INTO benchmark_consents (pharmacy_id) VALUES ($1) ON CONFLICT DO NOTHING`, [pharmacyId]);
    else await this.db.query(`DELETE FROM benchmark_consents WHERE pharmacy_id = $1`, [pharmacyId]);
  }
}
