import type pg from 'pg';
import { copyRows } from './copy-writer.js';
import type { InvoiceInput, InvoiceItemInput, ProductInput, PurchaseInput, SalesInput, StockInput, SupplierInput } from './ingest.schemas.js';

/** What an upsert did: rows new, rows changed (the rest were identical and left alone). */
export interface UpsertCounts {
  inserted: number;
  updated: number;
}

/** A refused line on its way to the quarantine table. */
export interface QuarantineRow {
  kind: string;
  lineNo: number;
  sourceId: string | null;
  reason: string;
  payload: unknown;
}

/** A batch's stored counts (the answer to a re-sent batch). */
export type StoredCounts = Record<string, unknown>;

// Family and generic kind are resolved at ingest from the catalogue (BDPM first,
// then the pharmacy's own LGO products), and stored on the line, so a rollup cell
// is always the sum of exactly the lines that carry its dimensions.
const FAMILY = `coalesce(p.family, pp.family, CASE WHEN s.sale_type = 'parapharmacy' THEN 'parapharmacy' ELSE 'non_reimbursable' END)`;
const GENERIC_KIND = `CASE WHEN p.generic_type IS NULL THEN 'none' WHEN p.generic_type = 0 THEN 'reference' ELSE 'generic' END`;

const n = (r: { n?: string | number } | undefined) => Number(r?.n ?? 0);

/**
 * The SQL of ingestion, on one pg client inside the caller's transaction: bulk
 * facts go through COPY into a temporary staging table, then one INSERT … ON
 * CONFLICT on the natural key whose old and new images feed the rollups by delta.
 */
export class IngestRepository {
  constructor(private readonly c: pg.PoolClient, private readonly pharmacyId: string) {}

  /** Serialises ingestion per pharmacy (rollup deltas read-modify-write ticket counts). */
  async lockPharmacy(): Promise<void> {
    await this.c.query(`SELECT pg_advisory_xact_lock(4242, hashtext($1))`, [this.pharmacyId]);
  }

  /** Claims the batch id; false when the batch was already ingested. */
  async claimBatch(batchId: string, source: string): Promise<boolean> {
    const r = await this.c.query(
      `INSERT INTO ingest_batches (pharmacy_id, batch_id, source, counts) VALUES ($1, $2, $3, '{}')
       ON CONFLICT (pharmacy_id, batch_id) DO NOTHING RETURNING 1`,
      [this.pharmacyId, batchId, source],
    );
    return r.rowCount === 1;
  }

  /** The counts recorded for a batch already ingested. */
  async batchCounts(batchId: string): Promise<StoredCounts | null> {
    const r = await this.c.query(`SELECT counts FROM ingest_batches WHERE pharmacy_id = $1 AND batch_id = $2`, [this.pharmacyId, batchId]);
    return (r.rows[0]?.counts as StoredCounts | undefined) ?? null;
  }

  /** Records the final counts of the batch. */
  async finishBatch(batchId: string, counts: StoredCounts): Promise<void> {
    await this.c.query(`UPDATE ingest_batches SET counts = $3 WHERE pharmacy_id = $1 AND batch_id = $2`, [this.pharmacyId, batchId, JSON.stringify(counts)]);
  }

  /** Supplier ids already known for this pharmacy. */
  async knownSuppliers(): Promise<Set<string>> {
    const r = await this.c.query(`SELECT source_id FROM suppliers WHERE pharmacy_id = $1`, [this.pharmacyId]);
    return new Set(r.rows.map((x: { source_id: string }) => x.source_id));
  }

  async upsertSuppliers(rows: SupplierInput[]): Promise<UpsertCounts> {
    if (!rows.length) return { inserted: 0, updated: 0 };
    const r = await this.c.query(
      `INSERT INTO suppliers AS t (pharmacy_id, source_id, name, kind)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])
       ON CONFLICT (pharmacy_id, source_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, updated_at = now()
       WHERE (t.name, t.kind) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind)
       RETURNING (xmax = 0) AS inserted`,
      [this.pharmacyId, rows.map((x) => x.sourceId), rows.map((x) => x.name), rows.map((x) => x.kind)],
    );
    return countReturned(r.rows);
  }

  async upsertProducts(rows: ProductInput[]): Promise<UpsertCounts> {
    if (!rows.length) return { inserted: 0, updated: 0 };
    const r = await this.c.query(
      `INSERT INTO pharmacy_products AS t (pharmacy_id, code, label, family, vat_rate, lab)
       SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[])
       ON CONFLICT (pharmacy_id, code) DO UPDATE SET label = EXCLUDED.label, family = EXCLUDED.family,
         vat_rate = EXCLUDED.vat_rate, lab = EXCLUDED.lab, updated_at = now()
       WHERE (t.label, t.family, t.vat_rate, t.lab) IS DISTINCT FROM (EXCLUDED.label, EXCLUDED.family, EXCLUDED.vat_rate, EXCLUDED.lab)
       RETURNING (xmax = 0) AS inserted`,
      [
        this.pharmacyId,
        rows.map((x) => x.code), rows.map((x) => x.label), rows.map((x) => x.family), rows.map((x) => x.vatRate), rows.map((x) => x.lab ?? null),
      ],
    );
    return countReturned(r.rows);
  }

  /**
   * Sales: COPY into staging, upsert by (pharmacy_id, source_id), then apply to the
   * rollups the difference between the new and old images of every changed line:
   * an identical re-send changes nothing, a corrected line moves its old values out.
   * The old image is read in the same statement as the upsert: every part of a
   * statement sees the snapshot taken before it, so no row is read twice.
   */
  async upsertSales(rows: SalesInput[]): Promise<UpsertCounts> {
    if (!rows.length) return { inserted: 0, updated: 0 };
    const c = this.c;
    await c.query(`
      CREATE TEMP TABLE stg_sales (
        source_id text, ticket_id text, sold_at timestamptz, product_code char(13), quantity integer,
        unit_price_ttc_cents integer, vat_rate numeric(4,2), unit_cost_ht_cents integer, fee_ttc_cents integer, sale_type text
      ) ON COMMIT DROP`);
    await copyRows(
      c,
      'stg_sales',
      ['source_id', 'ticket_id', 'sold_at', 'product_code', 'quantity', 'unit_price_ttc_cents', 'vat_rate', 'unit_cost_ht_cents', 'fee_ttc_cents', 'sale_type'],
      (function* () {
        for (const x of rows) {
          yield [x.sourceId, x.ticketId, x.soldAt, x.productCode, x.quantity, x.unitPriceTtcCents, x.vatRate, x.unitCostHtCents, x.feeTtcCents, x.saleType];
        }
      })(),
    );
    await c.query(`
      CREATE TEMP TABLE sales_delta (
        sign integer, inserted boolean, sale_day date, family text, vat_rate numeric(4,2), sale_type text, generic_kind text,
        ticket_id text, quantity integer, amount_ttc_cents bigint, amount_ht_cents bigint, cost_ht_cents bigint, fee_ttc_cents bigint
      ) ON COMMIT DROP`);
    const cols = `sale_day, family, vat_rate, sale_type, generic_kind, ticket_id, quantity, amount_ttc_cents, amount_ht_cents, cost_ht_cents, fee_ttc_cents`;
    await c.query(
      `WITH up AS (
         INSERT INTO sales_lines AS t (pharmacy_id, source_id, ticket_id, sold_at, sale_day, product_code, quantity,
           unit_price_ttc_cents, vat_rate, unit_cost_ht_cents, fee_ttc_cents, sale_type, family, generic_kind)
         SELECT $1, s.source_id, s.ticket_id, s.sold_at, (s.sold_at AT TIME ZONE 'Europe/Paris')::date, s.product_code, s.quantity,
           s.unit_price_ttc_cents, s.vat_rate, s.unit_cost_ht_cents, s.fee_ttc_cents, s.sale_type, ${FAMILY}, ${GENERIC_KIND}
         FROM stg_sales s
         LEFT JOIN products p ON p.code = s.product_code
         LEFT JOIN pharmacy_products pp ON pp.pharmacy_id = $1 AND pp.code = s.product_code
         ON CONFLICT (pharmacy_id, source_id) DO UPDATE SET
           ticket_id = EXCLUDED.ticket_id, sold_at = EXCLUDED.sold_at, sale_day = EXCLUDED.sale_day, product_code = EXCLUDED.product_code,
           quantity = EXCLUDED.quantity, unit_price_ttc_cents = EXCLUDED.unit_price_ttc_cents, vat_rate = EXCLUDED.vat_rate,
           unit_cost_ht_cents = EXCLUDED.unit_cost_ht_cents, fee_ttc_cents = EXCLUDED.fee_ttc_cents, sale_type = EXCLUDED.sale_type,
           family = EXCLUDED.family, generic_kind = EXCLUDED.generic_kind
         WHERE (t.ticket_id, t.sold_at, t.sale_day, t.product_code, t.quantity, t.unit_price_ttc_cents, t.vat_rate,
                t.unit_cost_ht_cents, t.fee_ttc_cents, t.sale_type, t.family, t.generic_kind)
           IS DISTINCT FROM (EXCLUDED.ticket_id, EXCLUDED.sold_at, EXCLUDED.sale_day, EXCLUDED.product_code, EXCLUDED.quantity,
                EXCLUDED.unit_price_ttc_cents, EXCLUDED.vat_rate, EXCLUDED.unit_cost_ht_cents, EXCLUDED.fee_ttc_cents,
                EXCLUDED.sale_type, EXCLUDED.family, EXCLUDED.generic_kind)
         RETURNING t.source_id, (t.xmax = 0) AS inserted, ${cols.split(', ').map((x) => `t.${x}`).join(', ')}
       )
       INSERT INTO sales_delta (sign, inserted, ${cols})
       SELECT 1, inserted, ${cols} FROM up
       UNION ALL
       SELECT -1, false, ${cols.split(', ').map((x) => `o.${x}`).join(', ')}
       FROM up u CROSS JOIN LATERAL (
         -- Same snapshot as the upsert: this reads the line as it was before this statement.
         SELECT * FROM sales_lines l WHERE l.pharmacy_id = $1 AND l.source_id = u.source_id OFFSET 0
       ) o
       WHERE NOT u.inserted`,
      [this.pharmacyId],
    );
    await c.query(
      `INSERT INTO sales_rollups AS r (pharmacy_id, day, family, vat_rate, sale_type, generic_kind, lines, quantity, sold_quantity,
         amount_ttc_cents, amount_ht_cents, cost_ht_cents, fee_ttc_cents, sales_ttc_cents)
       SELECT $1, sale_day, family, vat_rate, sale_type, generic_kind, sum(sign), sum(sign * quantity), sum(sign * greatest(quantity, 0)),
         sum(sign * amount_ttc_cents), sum(sign * amount_ht_cents), sum(sign * cost_ht_cents), sum(sign * fee_ttc_cents),
         sum(sign * CASE WHEN quantity > 0 THEN amount_ttc_cents ELSE 0 END)
       FROM sales_delta GROUP BY sale_day, family, vat_rate, sale_type, generic_kind
       ON CONFLICT (pharmacy_id, day, family, vat_rate, sale_type, generic_kind) DO UPDATE SET
         lines = r.lines + EXCLUDED.lines, quantity = r.quantity + EXCLUDED.quantity, sold_quantity = r.sold_quantity + EXCLUDED.sold_quantity,
         amount_ttc_cents = r.amount_ttc_cents + EXCLUDED.amount_ttc_cents, amount_ht_cents = r.amount_ht_cents + EXCLUDED.amount_ht_cents,
         cost_ht_cents = r.cost_ht_cents + EXCLUDED.cost_ht_cents, fee_ttc_cents = r.fee_ttc_cents + EXCLUDED.fee_ttc_cents,
         sales_ttc_cents = r.sales_ttc_cents + EXCLUDED.sales_ttc_cents`,
      [this.pharmacyId],
    );
    await c.query(
      `INSERT INTO sales_month_rollups AS r (pharmacy_id, month, family, vat_rate, sale_type, generic_kind, lines, quantity, sold_quantity,
         amount_ttc_cents, amount_ht_cents, cost_ht_cents, fee_ttc_cents, sales_ttc_cents)
       SELECT $1, day, family, vat_rate, sale_type, generic_kind, sum(lines), sum(quantity), sum(sold_quantity), sum(amount_ttc_cents),
         sum(amount_ht_cents), sum(cost_ht_cents), sum(fee_ttc_cents), sum(sales_ttc_cents)
       FROM (
         SELECT date_trunc('month', sale_day)::date AS day, family, vat_rate, sale_type, generic_kind, sign AS lines, sign * quantity AS quantity,
           sign * greatest(quantity, 0) AS sold_quantity, sign * amount_ttc_cents AS amount_ttc_cents, sign * amount_ht_cents AS amount_ht_cents,
           sign * cost_ht_cents AS cost_ht_cents, sign * fee_ttc_cents AS fee_ttc_cents,
           sign * CASE WHEN quantity > 0 THEN amount_ttc_cents ELSE 0 END AS sales_ttc_cents
         FROM sales_delta
       ) x GROUP BY day, family, vat_rate, sale_type, generic_kind
       ON CONFLICT (pharmacy_id, month, family, vat_rate, sale_type, generic_kind) DO UPDATE SET
         lines = r.lines + EXCLUDED.lines, quantity = r.quantity + EXCLUDED.quantity, sold_quantity = r.sold_quantity + EXCLUDED.sold_quantity,
         amount_ttc_cents = r.amount_ttc_cents + EXCLUDED.amount_ttc_cents, amount_ht_cents = r.amount_ht_cents + EXCLUDED.amount_ht_cents,
         cost_ht_cents = r.cost_ht_cents + EXCLUDED.cost_ht_cents, fee_ttc_cents = r.fee_ttc_cents + EXCLUDED.fee_ttc_cents,
         sales_ttc_cents = r.sales_ttc_cents + EXCLUDED.sales_ttc_cents`,
      [this.pharmacyId],
    );
    await c.query(
      `DELETE FROM sales_rollups r USING (SELECT DISTINCT sale_day FROM sales_delta WHERE sign < 0) d
       WHERE r.pharmacy_id = $1 AND r.day = d.sale_day AND r.lines = 0`,
      [this.pharmacyId],
    );
    await c.query(
      `DELETE FROM sales_month_rollups r USING (SELECT DISTINCT date_trunc('month', sale_day)::date AS m FROM sales_delta WHERE sign < 0) d
       WHERE r.pharmacy_id = $1 AND r.month = d.m AND r.lines = 0`,
      [this.pharmacyId],
    );
    // Tickets: a (day, ticket) counts once while it has a positive line. The upsert
    // returns each touched ticket's new count; new − delta is the count before, so
    // the transitions 0 → >0 and >0 → 0 need no separate lookup.
    await c.query(
      `WITH d AS (
         SELECT sale_day AS day, ticket_id, sum(sign * (quantity > 0)::int) AS delta
         FROM sales_delta GROUP BY 1, 2 HAVING sum(sign * (quantity > 0)::int) <> 0
       ), up AS (
         INSERT INTO sales_ticket_days AS t (pharmacy_id, day, ticket_id, positive_lines)
         SELECT $1, day, ticket_id, delta FROM d
         ON CONFLICT (pharmacy_id, day, ticket_id) DO UPDATE SET positive_lines = t.positive_lines + EXCLUDED.positive_lines
         RETURNING t.day, t.ticket_id, t.positive_lines AS after
       ), tr AS (
         SELECT up.day, sum(CASE WHEN up.after - d.delta = 0 AND up.after > 0 THEN 1
                                 WHEN up.after - d.delta > 0 AND up.after = 0 THEN -1 ELSE 0 END) AS dt
         FROM up JOIN d ON d.day = up.day AND d.ticket_id = up.ticket_id GROUP BY up.day
       ), days AS (
         INSERT INTO sales_day_rollups AS r (pharmacy_id, day, tickets) SELECT $1, day, dt FROM tr
         ON CONFLICT (pharmacy_id, day) DO UPDATE SET tickets = r.tickets + EXCLUDED.tickets
       )
       INSERT INTO sales_month_tickets AS r (pharmacy_id, month, tickets)
       SELECT $1, date_trunc('month', day)::date, sum(dt) FROM tr GROUP BY 2
       ON CONFLICT (pharmacy_id, month) DO UPDATE SET tickets = r.tickets + EXCLUDED.tickets`,
      [this.pharmacyId],
    );
    const r = await c.query(
      `SELECT count(*) FILTER (WHERE sign = 1 AND inserted) AS inserted, count(*) FILTER (WHERE sign = 1 AND NOT inserted) AS updated FROM sales_delta`,
    );
    await c.query(`DROP TABLE stg_sales, sales_delta`); // several batches may share one transaction
    return { inserted: Number(r.rows[0].inserted), updated: Number(r.rows[0].updated) };
  }

  /** Purchases: COPY into staging then upsert by natural key. */
  async upsertPurchases(rows: PurchaseInput[]): Promise<UpsertCounts> {
    if (!rows.length) return { inserted: 0, updated: 0 };
    const c = this.c;
    await c.query(`
      CREATE TEMP TABLE stg_purchases (
        source_id text, supplier_source_id text, product_code char(13), order_ref text, status text, ordered_on date, received_on date,
        quantity integer, free_units integer, list_price_ht_cents integer, discount_pct numeric(5,2), net_price_ht_cents integer
      ) ON COMMIT DROP`);
    await copyRows(
      c,
      'stg_purchases',
      ['source_id', 'supplier_source_id', 'product_code', 'order_ref', 'status', 'ordered_on', 'received_on', 'quantity', 'free_units',
        'list_price_ht_cents', 'discount_pct', 'net_price_ht_cents'],
      rows.map((x) => [x.sourceId, x.supplierSourceId, x.productCode, x.orderRef ?? null, x.status, x.orderedOn, x.receivedOn ?? null,
        x.quantity, x.freeUnits, x.listPriceHtCents, x.discountPct, x.netPriceHtCents]),
    );
    const r = await c.query(
      `INSERT INTO purchase_lines AS t (pharmacy_id, source_id, supplier_source_id, product_code, order_ref, status, ordered_on,
         received_on, purchase_day, quantity, free_units, list_price_ht_cents, discount_pct, net_price_ht_cents, family, generic_kind)
       SELECT $1, s.source_id, s.supplier_source_id, s.product_code, s.order_ref, s.status, s.ordered_on, s.received_on,
         coalesce(s.received_on, s.ordered_on), s.quantity, s.free_units, s.list_price_ht_cents, s.discount_pct, s.net_price_ht_cents,
         coalesce(p.family, pp.family, 'parapharmacy'), ${GENERIC_KIND}
       FROM stg_purchases s
       LEFT JOIN products p ON p.code = s.product_code
       LEFT JOIN pharmacy_products pp ON pp.pharmacy_id = $1 AND pp.code = s.product_code
       ON CONFLICT (pharmacy_id, source_id) DO UPDATE SET
         supplier_source_id = EXCLUDED.supplier_source_id, product_code = EXCLUDED.product_code, order_ref = EXCLUDED.order_ref,
         status = EXCLUDED.status, ordered_on = EXCLUDED.ordered_on, received_on = EXCLUDED.received_on, purchase_day = EXCLUDED.purchase_day,
         quantity = EXCLUDED.quantity, free_units = EXCLUDED.free_units, list_price_ht_cents = EXCLUDED.list_price_ht_cents,
         discount_pct = EXCLUDED.discount_pct, net_price_ht_cents = EXCLUDED.net_price_ht_cents, family = EXCLUDED.family,
         generic_kind = EXCLUDED.generic_kind
       WHERE (t.supplier_source_id, t.product_code, t.order_ref, t.status, t.ordered_on, t.received_on, t.quantity, t.free_units,
              t.list_price_ht_cents, t.discount_pct, t.net_price_ht_cents, t.family, t.generic_kind)
         IS DISTINCT FROM (EXCLUDED.supplier_source_id, EXCLUDED.product_code, EXCLUDED.order_ref, EXCLUDED.status, EXCLUDED.ordered_on,
              EXCLUDED.received_on, EXCLUDED.quantity, EXCLUDED.free_units, EXCLUDED.list_price_ht_cents, EXCLUDED.discount_pct,
              EXCLUDED.net_price_ht_cents, EXCLUDED.family, EXCLUDED.generic_kind)
       RETURNING (xmax = 0) AS inserted`,
      [this.pharmacyId],
    );
    await c.query(`DROP TABLE stg_purchases`);
    return countReturned(r.rows);
  }

  /** Issue day of the stored invoices among `sourceIds` (invoice lines need their invoice and its day). */
  async invoiceDays(sourceIds: string[]): Promise<Map<string, string>> {
    if (!sourceIds.length) return new Map();
    const r = await this.c.query(`SELECT source_id, to_char(issued_on, 'YYYY-MM-DD') AS day FROM supplier_invoices WHERE pharmacy_id = $1 AND source_id = ANY($2::text[])`, [
      this.pharmacyId,
      sourceIds,
    ]);
    return new Map(r.rows.map((x: { source_id: string; day: string }) => [x.source_id, x.day]));
  }

  /** Invoices: upsert headers; the lines of an invoice that carries `lines` are replaced as a whole. */
  async upsertInvoices(rows: InvoiceInput[]): Promise<UpsertCounts> {
    if (!rows.length) return { inserted: 0, updated: 0 };
    const headers = rows.map(({ lines: _lines, ...h }) => h);
    const withLines = rows.filter((i) => i.lines !== undefined).map((i) => i.sourceId);
    const r = await this.c.query(
      `INSERT INTO supplier_invoices AS t (pharmacy_id, source_id, supplier_source_id, invoice_number, issued_on, due_on,
         total_ht_cents, total_vat_cents, total_ttc_cents, file_sha256)
       SELECT $1, "sourceId", "supplierSourceId", "invoiceNumber", "issuedOn", "dueOn", "totalHtCents", "totalVatCents", "totalTtcCents", "fileSha256"
       FROM jsonb_to_recordset($2::jsonb) AS x("sourceId" text, "supplierSourceId" text, "invoiceNumber" text, "issuedOn" date, "dueOn" date,
         "totalHtCents" bigint, "totalVatCents" bigint, "totalTtcCents" bigint, "fileSha256" text)
       ON CONFLICT (pharmacy_id, source_id) DO UPDATE SET supplier_source_id = EXCLUDED.supplier_source_id,
         invoice_number = EXCLUDED.invoice_number, issued_on = EXCLUDED.issued_on, due_on = EXCLUDED.due_on,
         total_ht_cents = EXCLUDED.total_ht_cents, total_vat_cents = EXCLUDED.total_vat_cents, total_ttc_cents = EXCLUDED.total_ttc_cents,
         file_sha256 = EXCLUDED.file_sha256
       WHERE (t.supplier_source_id, t.invoice_number, t.issued_on, t.due_on, t.total_ht_cents, t.total_vat_cents, t.total_ttc_cents, t.file_sha256)
         IS DISTINCT FROM (EXCLUDED.supplier_source_id, EXCLUDED.invoice_number, EXCLUDED.issued_on, EXCLUDED.due_on,
              EXCLUDED.total_ht_cents, EXCLUDED.total_vat_cents, EXCLUDED.total_ttc_cents, EXCLUDED.file_sha256)
       RETURNING t.source_id, (t.xmax = 0) AS inserted`,
      [this.pharmacyId, JSON.stringify(headers)],
    );
    const lines = rows.flatMap((i) => (i.lines ?? []).map((l) => ({ ...l, invoiceSourceId: i.sourceId })));
    const before = await this.c.query(
      `SELECT invoice_source_id, md5(string_agg(concat_ws('|', line_no, product_code, quantity, free_units, unit_price_ht_cents, vat_rate, amount_ht_cents), ',' ORDER BY line_no)) AS h
       FROM supplier_invoice_lines WHERE pharmacy_id = $1 AND invoice_source_id = ANY($2::text[]) GROUP BY 1`,
      [this.pharmacyId, withLines],
    );
    await this.c.query(`DELETE FROM supplier_invoice_lines WHERE pharmacy_id = $1 AND invoice_source_id = ANY($2::text[])`, [this.pharmacyId, withLines]);
    await this.c.query(
      `INSERT INTO supplier_invoice_lines (pharmacy_id, invoice_source_id, line_no, product_code, quantity, free_units, unit_price_ht_cents, vat_rate, amount_ht_cents)
       SELECT $1, "invoiceSourceId", "lineNo", "productCode", quantity, "freeUnits", "unitPriceHtCents", "vatRate", "amountHtCents"
       FROM jsonb_to_recordset($2::jsonb) AS x("invoiceSourceId" text, "lineNo" int, "productCode" text, quantity int, "freeUnits" int,
         "unitPriceHtCents" int, "vatRate" numeric, "amountHtCents" bigint)`,
      [this.pharmacyId, JSON.stringify(lines)],
    );
    const after = await this.c.query(
      `SELECT invoice_source_id, md5(string_agg(concat_ws('|', line_no, product_code, quantity, free_units, unit_price_ht_cents, vat_rate, amount_ht_cents), ',' ORDER BY line_no)) AS h
       FROM supplier_invoice_lines WHERE pharmacy_id = $1 AND invoice_source_id = ANY($2::text[]) GROUP BY 1`,
      [this.pharmacyId, withLines],
    );
    // An invoice counts as updated when its header or its lines really changed.
    const beforeHash = new Map(before.rows.map((x: { invoice_source_id: string; h: string }) => [x.invoice_source_id, x.h]));
    const afterHash = new Map(after.rows.map((x: { invoice_source_id: string; h: string }) => [x.invoice_source_id, x.h]));
    const touched = new Map((r.rows as { source_id: string; inserted: boolean }[]).map((x) => [x.source_id, x.inserted]));
    let inserted = 0;
    let updated = 0;
    for (const i of rows) {
      if (touched.get(i.sourceId) === true) inserted++;
      else if (touched.has(i.sourceId) || beforeHash.get(i.sourceId) !== afterHash.get(i.sourceId)) updated++;
    }
    return { inserted, updated };
  }

  /** Invoice lines on their own: upsert by (invoice, line number); the invoice's other lines stay. */
  async upsertInvoiceLines(rows: InvoiceItemInput[]): Promise<UpsertCounts> {
    if (!rows.length) return { inserted: 0, updated: 0 };
    const r = await this.c.query(
      `INSERT INTO supplier_invoice_lines AS t (pharmacy_id, invoice_source_id, line_no, product_code, quantity, free_units, unit_price_ht_cents, vat_rate, amount_ht_cents)
       SELECT $1, "invoiceSourceId", "lineNo", "productCode", quantity, "freeUnits", "unitPriceHtCents", "vatRate", "amountHtCents"
       FROM jsonb_to_recordset($2::jsonb) AS x("invoiceSourceId" text, "lineNo" int, "productCode" text, quantity int, "freeUnits" int,
         "unitPriceHtCents" int, "vatRate" numeric, "amountHtCents" bigint)
       ON CONFLICT (pharmacy_id, invoice_source_id, line_no) DO UPDATE SET product_code = EXCLUDED.product_code, quantity = EXCLUDED.quantity,
         free_units = EXCLUDED.free_units, unit_price_ht_cents = EXCLUDED.unit_price_ht_cents, vat_rate = EXCLUDED.vat_rate, amount_ht_cents = EXCLUDED.amount_ht_cents
       WHERE (t.product_code, t.quantity, t.free_units, t.unit_price_ht_cents, t.vat_rate, t.amount_ht_cents)
         IS DISTINCT FROM (EXCLUDED.product_code, EXCLUDED.quantity, EXCLUDED.free_units, EXCLUDED.unit_price_ht_cents, EXCLUDED.vat_rate, EXCLUDED.amount_ht_cents)
       RETURNING (xmax = 0) AS inserted`,
      [this.pharmacyId, JSON.stringify(rows)],
    );
    return countReturned(r.rows);
  }

  /** Stock snapshots: COPY, upsert by (pharmacy, day, product), stock rollup by delta. */
  async upsertStock(rows: StockInput[]): Promise<UpsertCounts> {
    if (!rows.length) return { inserted: 0, updated: 0 };
    const c = this.c;
    await c.query(`CREATE TEMP TABLE stg_stock (snapshot_on date, product_code char(13), quantity integer, wac_ht_cents integer) ON COMMIT DROP`);
    await copyRows(c, 'stg_stock', ['snapshot_on', 'product_code', 'quantity', 'wac_ht_cents'],
      rows.map((x) => [x.snapshotOn, x.productCode, x.quantity, x.wacHtCents]));
    await c.query(`CREATE TEMP TABLE stock_delta (sign integer, inserted boolean, snapshot_on date, quantity integer, value_ht_cents bigint) ON COMMIT DROP`);
    await c.query(
      `WITH up AS (
         INSERT INTO stock_snapshots AS t (pharmacy_id, snapshot_on, product_code, quantity, wac_ht_cents)
         SELECT $1, snapshot_on, product_code, quantity, wac_ht_cents FROM stg_stock
         ON CONFLICT (pharmacy_id, snapshot_on, product_code) DO UPDATE SET quantity = EXCLUDED.quantity, wac_ht_cents = EXCLUDED.wac_ht_cents
         WHERE (t.quantity, t.wac_ht_cents) IS DISTINCT FROM (EXCLUDED.quantity, EXCLUDED.wac_ht_cents)
         RETURNING t.snapshot_on, t.product_code, (t.xmax = 0) AS inserted, t.quantity, t.value_ht_cents
       )
       INSERT INTO stock_delta
       SELECT 1, inserted, snapshot_on, quantity, value_ht_cents FROM up
       UNION ALL
       SELECT -1, false, o.snapshot_on, o.quantity, o.value_ht_cents
       FROM up u CROSS JOIN LATERAL (
         SELECT * FROM stock_snapshots o
         WHERE o.pharmacy_id = $1 AND o.snapshot_on = u.snapshot_on AND o.product_code = u.product_code OFFSET 0
       ) o
       WHERE NOT u.inserted`,
      [this.pharmacyId],
    );
    await c.query(
      `INSERT INTO stock_rollups AS r (pharmacy_id, snapshot_on, products, units, value_ht_cents)
       SELECT $1, snapshot_on, sum(sign * (quantity > 0)::int), sum(sign * greatest(quantity, 0)), sum(sign * value_ht_cents)
       FROM stock_delta GROUP BY snapshot_on
       ON CONFLICT (pharmacy_id, snapshot_on) DO UPDATE SET products = r.products + EXCLUDED.products,
         units = r.units + EXCLUDED.units, value_ht_cents = r.value_ht_cents + EXCLUDED.value_ht_cents`,
      [this.pharmacyId],
    );
    const r = await c.query(
      `SELECT count(*) FILTER (WHERE sign = 1 AND inserted) AS inserted, count(*) FILTER (WHERE sign = 1 AND NOT inserted) AS updated FROM stock_delta`,
    );
    await c.query(`DROP TABLE stg_stock, stock_delta`);
    return { inserted: n({ n: r.rows[0].inserted }), updated: n({ n: r.rows[0].updated }) };
  }

  /** Quarantined invoice lines (id, payload) that were refused only because their invoice was unknown, for these invoices. */
  async orphanInvoiceLines(invoiceIds: string[], reasonPrefix: string): Promise<{ id: string; payload: unknown }[]> {
    if (!invoiceIds.length) return [];
    const r = await this.c.query(
      `SELECT id::text AS id, payload FROM ingest_quarantine
        WHERE pharmacy_id = $1 AND kind = 'invoiceLines' AND starts_with(reason, $3) AND payload->>'invoiceSourceId' = ANY($2::text[])
        ORDER BY id`,
      [this.pharmacyId, invoiceIds, reasonPrefix],
    );
    return r.rows as { id: string; payload: unknown }[];
  }

  /** Removes quarantine rows whose lines have since been stored. */
  async releaseQuarantine(ids: string[]): Promise<void> {
    if (ids.length) await this.c.query(`DELETE FROM ingest_quarantine WHERE pharmacy_id = $1 AND id = ANY($2::bigint[])`, [this.pharmacyId, ids]);
  }

  /** Stores refused lines with their reasons. */
  async quarantine(batchId: string, rows: QuarantineRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 5000) {
      const part = rows.slice(i, i + 5000);
      await this.c.query(
        `INSERT INTO ingest_quarantine (pharmacy_id, batch_id, kind, line_no, source_id, reason, payload)
         SELECT $1, $2, kind, line_no, source_id, reason, payload
         FROM jsonb_to_recordset($3::jsonb) AS x(kind text, line_no int, source_id text, reason text, payload jsonb)`,
        [this.pharmacyId, batchId, JSON.stringify(part.map((q) => ({ kind: q.kind, line_no: q.lineNo, source_id: q.sourceId, reason: q.reason, payload: q.payload ?? null })))],
      );
    }
  }
}

function countReturned(rows: { inserted: boolean }[]): UpsertCounts {
  let inserted = 0;
  for (const r of rows) if (r.inserted) inserted++;
  return { inserted, updated: rows.length - inserted };
}
