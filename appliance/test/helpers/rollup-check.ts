import type { DataSource } from 'typeorm';

/**
 * The rollups as stored and as recomputed from scratch from the fact tables, each as
 * sorted lines of text, so a test can compare them with one `same`.
 */
export async function rollupsVsRecomputation(ds: DataSource, pharmacyId: string): Promise<{ stored: string[]; recomputed: string[] }> {
  const cell = `day::text, family, vat_rate::text, sale_type, generic_kind`;
  const stored = (await ds.query(
    `SELECT concat_ws('|', ${cell}, lines, quantity, sold_quantity, amount_ttc_cents, amount_ht_cents, cost_ht_cents, margin_ht_cents, fee_ttc_cents, sales_ttc_cents) AS r
     FROM sales_rollups WHERE pharmacy_id = $1 AND lines <> 0
     UNION ALL SELECT concat_ws('|', 'tickets', day::text, tickets) FROM sales_day_rollups WHERE pharmacy_id = $1 AND tickets <> 0
     UNION ALL SELECT concat_ws('|', 'stock', snapshot_on::text, products, units, value_ht_cents) FROM stock_rollups WHERE pharmacy_id = $1 AND (products, units, value_ht_cents) <> (0, 0, 0)
     UNION ALL SELECT concat_ws('|', 'month', month::text, family, vat_rate::text, sale_type, generic_kind, lines, quantity, sold_quantity, amount_ttc_cents,
       amount_ht_cents, cost_ht_cents, margin_ht_cents, fee_ttc_cents, sales_ttc_cents) FROM sales_month_rollups WHERE pharmacy_id = $1 AND lines <> 0
     UNION ALL SELECT concat_ws('|', 'month-tickets', month::text, tickets) FROM sales_month_tickets WHERE pharmacy_id = $1 AND tickets <> 0`,
    [pharmacyId],
  )) as { r: string }[];
  const recomputed = (await ds.query(
    `SELECT concat_ws('|', sale_day::text, family, vat_rate::text, sale_type, generic_kind, count(*), sum(quantity), sum(greatest(quantity, 0)),
        sum(amount_ttc_cents), sum(amount_ht_cents), sum(cost_ht_cents), sum(amount_ht_cents - cost_ht_cents), sum(fee_ttc_cents),
        sum(CASE WHEN quantity > 0 THEN amount_ttc_cents ELSE 0 END)) AS r
     FROM sales_lines WHERE pharmacy_id = $1 GROUP BY sale_day, family, vat_rate, sale_type, generic_kind
     UNION ALL SELECT concat_ws('|', 'tickets', sale_day::text, count(DISTINCT ticket_id)) FROM sales_lines
       WHERE pharmacy_id = $1 AND quantity > 0 GROUP BY sale_day
     UNION ALL SELECT concat_ws('|', 'stock', snapshot_on::text, count(*) FILTER (WHERE quantity > 0), sum(greatest(quantity, 0)), sum(value_ht_cents))
       FROM stock_snapshots WHERE pharmacy_id = $1 GROUP BY snapshot_on
       HAVING (count(*) FILTER (WHERE quantity > 0), sum(greatest(quantity, 0)), sum(value_ht_cents)) <> (0, 0, 0)
     UNION ALL SELECT concat_ws('|', 'month', date_trunc('month', sale_day)::date::text, family, vat_rate::text, sale_type, generic_kind, count(*), sum(quantity),
        sum(greatest(quantity, 0)), sum(amount_ttc_cents), sum(amount_ht_cents), sum(cost_ht_cents), sum(amount_ht_cents - cost_ht_cents), sum(fee_ttc_cents),
        sum(CASE WHEN quantity > 0 THEN amount_ttc_cents ELSE 0 END))
       FROM sales_lines WHERE pharmacy_id = $1 GROUP BY date_trunc('month', sale_day), family, vat_rate, sale_type, generic_kind
     UNION ALL SELECT concat_ws('|', 'month-tickets', date_trunc('month', sale_day)::date::text, count(DISTINCT (sale_day, ticket_id)))
       FROM sales_lines WHERE pharmacy_id = $1 AND quantity > 0 GROUP BY date_trunc('month', sale_day)`,
    [pharmacyId],
  )) as { r: string }[];
  return { stored: stored.map((x) => x.r).sort(), recomputed: recomputed.map((x) => x.r).sort() };
}

/** Row counts and sums of every table ingestion writes, to prove a re-send changed nothing. */
export async function ingestFingerprint(ds: DataSource, pharmacyId: string): Promise<Record<string, string>> {
  const tables = ['sales_lines', 'purchase_lines', 'supplier_invoices', 'supplier_invoice_lines', 'stock_snapshots', 'suppliers',
    'pharmacy_products', 'sales_rollups', 'sales_month_rollups', 'sales_month_tickets', 'sales_day_rollups', 'sales_ticket_days', 'stock_rollups', 'ingest_quarantine', 'ingest_batches'];
  const out: Record<string, string> = {};
  for (const t of tables) {
    const [r] = (await ds.query(`SELECT count(*)::text AS n, md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS h FROM ${t} x WHERE pharmacy_id = $1`, [pharmacyId])) as { n: string; h: string }[];
    out[t] = `${r!.n}:${r!.h}`;
  }
  return out;
}
