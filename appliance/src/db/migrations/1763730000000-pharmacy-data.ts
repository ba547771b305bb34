import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * CHECK expression for an EAN-13 check digit (CIP13 34009…, ACL13 3401…, any EAN13):
 * weights 1,3,1,3… over the 13 digits sum to a multiple of 10. Written inline rather
 * than as a SQL function: PostgreSQL does not inline functions in CHECK constraints,
 * and the call costs several times the expression at a million rows per batch.
 */
function ean13Check(col: string): string {
  const d = (i: number) => `get_byte(${col}::bytea, ${i})`;
  const odd = [0, 2, 4, 6, 8, 10, 12].map(d).join(' + ');
  const even = [1, 3, 5, 7, 9, 11].map(d).join(' + ');
  return `CHECK (${col} ~ '^[0-9]{13}$' AND ((${odd} - 336) + 3 * (${even} - 288)) % 10 = 0)`;
}

/**
 * Pharmacy commercial data: the product catalogue (BDPM + LGO products), suppliers,
 * the fact tables (sales, purchases, supplier invoices, stock snapshots), dated
 * regulatory parameters, ingest bookkeeping (batches, quarantine) and the rollups
 * maintained at ingest. Fact keys lead with pharmacy_id and end with the LGO's id.
 * Money is integer cents; no column holds patient or prescriber identity.
 */
export class PharmacyData1763730000000 implements MigrationInterface {
  name = 'PharmacyData1763730000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE generic_groups (
        id     integer PRIMARY KEY,
        label  text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE products (
        code                  char(13) PRIMARY KEY ${ean13Check('code')},
        code_kind             text NOT NULL CHECK (code_kind IN ('cip13', 'acl13', 'ean13')),
        cip7                  char(7) CHECK (cip7 ~ '^[0-9]{7}$'),
        cis                   char(8) CHECK (cis ~ '^[0-9]{8}$'),
        label                 text NOT NULL CHECK (length(label) BETWEEN 1 AND 500),
        lab                   text,
        family                text NOT NULL CHECK (family IN ('reimbursable', 'non_reimbursable', 'parapharmacy')),
        vat_rate              numeric(4,2) NOT NULL CHECK (vat_rate >= 0 AND vat_rate < 100),
        reimbursement_rate    smallint CHECK (reimbursement_rate BETWEEN 0 AND 100),
        price_ttc_cents       integer CHECK (price_ttc_cents >= 0),
        dispensing_fee_cents  integer CHECK (dispensing_fee_cents >= 0),
        generic_group_id      integer REFERENCES generic_groups(id),
        generic_type          smallint CHECK (generic_type IN (0, 1, 2, 4)),
        marketed              boolean NOT NULL DEFAULT true,
        source                text NOT NULL CHECK (source IN ('bdpm', 'lgo')),
        updated_at            timestamptz NOT NULL DEFAULT now(),
        CHECK ((code_kind = 'cip13') = (code LIKE '34009%')),
        CHECK (code_kind <> 'acl13' OR code LIKE '3401%')
      )`);
    await q.query(`CREATE INDEX products_cip7_idx ON products (cip7)`);
    await q.query(`CREATE INDEX products_generic_group_idx ON products (generic_group_id)`);

    // Products only a pharmacy's LGO knows (parapharmacy EANs, house labels): per tenant,
    // so one pharmacy can never rename another's catalogue.
    await q.query(`
      CREATE TABLE pharmacy_products (
        pharmacy_id   uuid NOT NULL REFERENCES pharmacies(id),
        code          char(13) NOT NULL ${ean13Check('code')},
        label         text NOT NULL CHECK (length(label) BETWEEN 1 AND 500),
        family        text NOT NULL CHECK (family IN ('reimbursable', 'non_reimbursable', 'parapharmacy')),
        vat_rate      numeric(4,2) NOT NULL,
        lab           text,
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pharmacy_id, code)
      )`);

    await q.query(`
      CREATE TABLE suppliers (
        pharmacy_id  uuid NOT NULL REFERENCES pharmacies(id),
        source_id    text NOT NULL CHECK (length(source_id) BETWEEN 1 AND 64),
        name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        kind         text NOT NULL CHECK (kind IN ('wholesaler', 'lab', 'other')),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pharmacy_id, source_id)
      )`);

    await q.query(`
      CREATE TABLE sales_lines (
        pharmacy_id           uuid NOT NULL REFERENCES pharmacies(id),
        source_id             text NOT NULL CHECK (length(source_id) BETWEEN 1 AND 64),
        ticket_id             text NOT NULL CHECK (length(ticket_id) BETWEEN 1 AND 64),
        sold_at               timestamptz NOT NULL,
        sale_day              date NOT NULL,
        product_code          char(13) NOT NULL ${ean13Check('product_code')},
        quantity              integer NOT NULL CHECK (quantity <> 0),
        unit_price_ttc_cents  integer NOT NULL CHECK (unit_price_ttc_cents >= 0),
        vat_rate              numeric(4,2) NOT NULL CHECK (vat_rate >= 0 AND vat_rate < 100),
        unit_cost_ht_cents    integer NOT NULL CHECK (unit_cost_ht_cents >= 0),
        fee_ttc_cents         integer NOT NULL DEFAULT 0,
        sale_type             text NOT NULL CHECK (sale_type IN ('prescription', 'otc', 'parapharmacy')),
        family                text NOT NULL CHECK (family IN ('reimbursable', 'non_reimbursable', 'parapharmacy')),
        generic_kind          text NOT NULL CHECK (generic_kind IN ('none', 'reference', 'generic')),
        amount_ttc_cents      bigint GENERATED ALWAYS AS (quantity::bigint * unit_price_ttc_cents + fee_ttc_cents) STORED,
        amount_ht_cents       bigint GENERATED ALWAYS AS (round((quantity::bigint * unit_price_ttc_cents + fee_ttc_cents) * 100 / (100 + vat_rate))::bigint) STORED,
        cost_ht_cents         bigint GENERATED ALWAYS AS (quantity::bigint * unit_cost_ht_cents) STORED,
        PRIMARY KEY (pharmacy_id, source_id)
      )`);
    await q.query(`CREATE INDEX sales_lines_day_idx ON sales_lines (pharmacy_id, sale_day)`);
    await q.query(`CREATE INDEX sales_lines_product_idx ON sales_lines (pharmacy_id, product_code, sale_day)`);

    await q.query(`
      CREATE TABLE purchase_lines (
        pharmacy_id           uuid NOT NULL REFERENCES pharmacies(id),
        source_id             text NOT NULL CHECK (length(source_id) BETWEEN 1 AND 64),
        supplier_source_id    text NOT NULL,
        product_code          char(13) NOT NULL ${ean13Check('product_code')},
        order_ref             text,
        status                text NOT NULL CHECK (status IN ('ordered', 'received', 'cancelled')),
        ordered_on            date NOT NULL,
        received_on           date,
        purchase_day          date NOT NULL,
        quantity              integer NOT NULL CHECK (quantity >= 0),
        free_units            integer NOT NULL DEFAULT 0 CHECK (free_units >= 0),
        list_price_ht_cents   integer NOT NULL CHECK (list_price_ht_cents >= 0),
        discount_pct          numeric(5,2) NOT NULL DEFAULT 0 CHECK (discount_pct BETWEEN 0 AND 100),
        net_price_ht_cents    integer NOT NULL CHECK (net_price_ht_cents >= 0),
        family                text NOT NULL CHECK (family IN ('reimbursable', 'non_reimbursable', 'parapharmacy')),
        generic_kind          text NOT NULL CHECK (generic_kind IN ('none', 'reference', 'generic')),
        list_amount_ht_cents  bigint GENERATED ALWAYS AS ((quantity + free_units)::bigint * list_price_ht_cents) STORED,
        net_amount_ht_cents   bigint GENERATED ALWAYS AS (quantity::bigint * net_price_ht_cents) STORED,
        PRIMARY KEY (pharmacy_id, source_id),
        FOREIGN KEY (pharmacy_id, supplier_source_id) REFERENCES suppliers (pharmacy_id, source_id)
      )`);
    await q.query(`CREATE INDEX purchase_lines_day_idx ON purchase_lines (pharmacy_id, purchase_day)`);

    await q.query(`
      CREATE TABLE supplier_invoices (
        pharmacy_id         uuid NOT NULL REFERENCES pharmacies(id),
        source_id           text NOT NULL CHECK (length(source_id) BETWEEN 1 AND 64),
        supplier_source_id  text NOT NULL,
        invoice_number      text NOT NULL CHECK (length(invoice_number) BETWEEN 1 AND 64),
        issued_on           date NOT NULL,
        due_on              date,
        total_ht_cents      bigint NOT NULL,
        total_vat_cents     bigint NOT NULL,
        total_ttc_cents     bigint NOT NULL CHECK (total_ttc_cents = total_ht_cents + total_vat_cents),
        file_sha256         char(64) CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
        PRIMARY KEY (pharmacy_id, source_id),
        FOREIGN KEY (pharmacy_id, supplier_source_id) REFERENCES suppliers (pharmacy_id, source_id)
      )`);
    await q.query(`CREATE INDEX supplier_invoices_issued_idx ON supplier_invoices (pharmacy_id, issued_on)`);
    await q.query(`
      CREATE TABLE supplier_invoice_lines (
        pharmacy_id          uuid NOT NULL,
        invoice_source_id    text NOT NULL,
        line_no              integer NOT NULL CHECK (line_no >= 1),
        product_code         char(13) NOT NULL ${ean13Check('product_code')},
        quantity             integer NOT NULL,
        free_units           integer NOT NULL DEFAULT 0 CHECK (free_units >= 0),
        unit_price_ht_cents  integer NOT NULL CHECK (unit_price_ht_cents >= 0),
        vat_rate             numeric(4,2) NOT NULL,
        amount_ht_cents      bigint NOT NULL,
        PRIMARY KEY (pharmacy_id, invoice_source_id, line_no),
        FOREIGN KEY (pharmacy_id, invoice_source_id) REFERENCES supplier_invoices (pharmacy_id, source_id) ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE TABLE stock_snapshots (
        pharmacy_id    uuid NOT NULL REFERENCES pharmacies(id),
        snapshot_on    date NOT NULL,
        product_code   char(13) NOT NULL ${ean13Check('product_code')},
        quantity       integer NOT NULL,
        wac_ht_cents   integer NOT NULL CHECK (wac_ht_cents >= 0),
        value_ht_cents bigint GENERATED ALWAYS AS (greatest(quantity, 0)::bigint * wac_ht_cents) STORED,
        PRIMARY KEY (pharmacy_id, snapshot_on, product_code)
      )`);

    await q.query(`
      CREATE TABLE regulatory_parameters (
        id           integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind         text NOT NULL CHECK (kind IN ('vat_rate', 'discount_cap', 'margin_band', 'dispensing_fee')),
        code         text NOT NULL,
        valid_from   date NOT NULL,
        valid_to     date,
        value        numeric(12,4) NOT NULL,
        lower_cents  bigint,
        upper_cents  bigint,
        label        text NOT NULL,
        UNIQUE (kind, code, valid_from),
        CHECK (valid_to IS NULL OR valid_to > valid_from)
      )`);
    // Values in force (France). valid_to is exclusive. Discount caps: art. L.138-9 CSS;
    // the generic cap moved from 40 % to 30 % on 2025-09-01.
    await q.query(`
      INSERT INTO regulatory_parameters (kind, code, valid_from, valid_to, value, lower_cents, upper_cents, label) VALUES
        ('vat_rate', 'super_reduced', '2014-01-01', NULL, 2.10, NULL, NULL, 'TVA 2,1 % (médicaments remboursables)'),
        ('vat_rate', 'reduced', '2014-01-01', NULL, 5.50, NULL, NULL, 'TVA 5,5 %'),
        ('vat_rate', 'intermediate', '2014-01-01', NULL, 10.00, NULL, NULL, 'TVA 10 % (médicaments non remboursables)'),
        ('vat_rate', 'standard', '2014-01-01', NULL, 20.00, NULL, NULL, 'TVA 20 % (parapharmacie)'),
        ('discount_cap', 'generic', '2014-09-01', '2025-09-01', 40.00, NULL, NULL, 'Plafond de remise génériques (40 %)'),
        ('discount_cap', 'generic', '2025-09-01', NULL, 30.00, NULL, NULL, 'Plafond de remise génériques (30 %)'),
        ('discount_cap', 'reimbursable_reference', '2014-01-01', NULL, 2.50, NULL, NULL, 'Plafond de remise spécialités remboursables non génériques (2,5 %)'),
        ('margin_band', 'band_1', '2020-01-01', NULL, 10.00, 0, 191, 'Marge dégressive lissée : 0 à 1,91 €'),
        ('margin_band', 'band_2', '2020-01-01', NULL, 21.40, 192, 2290, 'Marge dégressive lissée : 1,92 à 22,90 €'),
        ('margin_band', 'band_3', '2020-01-01', NULL, 8.50, 2291, 15000, 'Marge dégressive lissée : 22,91 à 150 €'),
        ('margin_band', 'band_4', '2020-01-01', NULL, 6.00, 15001, 193000, 'Marge dégressive lissée : 150,01 à 1 930 €'),
        ('margin_band', 'band_5', '2020-01-01', NULL, 0.00, 193001, NULL, 'Marge dégressive lissée : au-delà de 1 930 €'),
        ('dispensing_fee', 'per_box', '2019-01-01', NULL, 102, NULL, NULL, 'Honoraire de dispensation par boîte (1,02 € TTC)')
    `);

    await q.query(`
      CREATE TABLE ingest_batches (
        pharmacy_id  uuid NOT NULL REFERENCES pharmacies(id),
        batch_id     text NOT NULL CHECK (batch_id ~ '^[A-Za-z0-9._:-]{1,100}$'),
        source       text NOT NULL CHECK (source IN ('agent', 'console', 'generator')),
        received_at  timestamptz NOT NULL DEFAULT now(),
        counts       jsonb NOT NULL,
        PRIMARY KEY (pharmacy_id, batch_id)
      )`);
    await q.query(`
      CREATE TABLE ingest_quarantine (
        pharmacy_id  uuid NOT NULL REFERENCES pharmacies(id),
        id           bigint GENERATED ALWAYS AS IDENTITY,
        batch_id     text NOT NULL,
        kind         text NOT NULL,
        line_no      integer NOT NULL,
        source_id    text,
        reason       text NOT NULL,
        payload      jsonb NOT NULL,
        received_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (pharmacy_id, id)
      )`);
    await q.query(`CREATE INDEX ingest_quarantine_batch_idx ON ingest_quarantine (pharmacy_id, batch_id)`);

    // Rollups maintained in the ingest transaction, by delta. No CHECK on counters:
    // PostgreSQL checks the proposed row of an INSERT … ON CONFLICT before the
    // conflict, and a delta row is legitimately negative.
    await q.query(`
      CREATE TABLE sales_rollups (
        pharmacy_id       uuid NOT NULL REFERENCES pharmacies(id),
        day               date NOT NULL,
        family            text NOT NULL,
        vat_rate          numeric(4,2) NOT NULL,
        sale_type         text NOT NULL,
        generic_kind      text NOT NULL,
        lines             integer NOT NULL,
        quantity          bigint NOT NULL,
        sold_quantity     bigint NOT NULL,
        amount_ttc_cents  bigint NOT NULL,
        amount_ht_cents   bigint NOT NULL,
        cost_ht_cents     bigint NOT NULL,
        margin_ht_cents   bigint GENERATED ALWAYS AS (amount_ht_cents - cost_ht_cents) STORED,
        fee_ttc_cents     bigint NOT NULL,
        sales_ttc_cents   bigint NOT NULL,
        PRIMARY KEY (pharmacy_id, day, family, vat_rate, sale_type, generic_kind)
      )`);
    // Tickets are distinct counts: a ticket counts on a day when it has at least one
    // positive (non credit-note) line that day.
    await q.query(`
      CREATE TABLE sales_ticket_days (
        pharmacy_id     uuid NOT NULL REFERENCES pharmacies(id),
        day             date NOT NULL,
        ticket_id       text NOT NULL,
        positive_lines  integer NOT NULL,
        PRIMARY KEY (pharmacy_id, day, ticket_id)
      )`);
    await q.query(`
      CREATE TABLE sales_day_rollups (
        pharmacy_id  uuid NOT NULL REFERENCES pharmacies(id),
        day          date NOT NULL,
        tickets      integer NOT NULL,
        PRIMARY KEY (pharmacy_id, day)
      )`);
    // The same rollup by calendar month, so a year-long dashboard or a groupement
    // benchmark reads twelve rows per cell instead of 365.
    await q.query(`
      CREATE TABLE sales_month_rollups (
        pharmacy_id       uuid NOT NULL REFERENCES pharmacies(id),
        month             date NOT NULL CHECK (extract(day FROM month) = 1),
        family            text NOT NULL,
        vat_rate          numeric(4,2) NOT NULL,
        sale_type         text NOT NULL,
        generic_kind      text NOT NULL,
        lines             integer NOT NULL,
        quantity          bigint NOT NULL,
        sold_quantity     bigint NOT NULL,
        amount_ttc_cents  bigint NOT NULL,
        amount_ht_cents   bigint NOT NULL,
        cost_ht_cents     bigint NOT NULL,
        margin_ht_cents   bigint GENERATED ALWAYS AS (amount_ht_cents - cost_ht_cents) STORED,
        fee_ttc_cents     bigint NOT NULL,
        sales_ttc_cents   bigint NOT NULL,
        PRIMARY KEY (pharmacy_id, month, family, vat_rate, sale_type, generic_kind)
      )`);
    await q.query(`
      CREATE TABLE sales_month_tickets (
        pharmacy_id  uuid NOT NULL REFERENCES pharmacies(id),
        month        date NOT NULL CHECK (extract(day FROM month) = 1),
        tickets      integer NOT NULL,
        PRIMARY KEY (pharmacy_id, month)
      )`);
    await q.query(`
      CREATE TABLE stock_rollups (
        pharmacy_id     uuid NOT NULL REFERENCES pharmacies(id),
        snapshot_on     date NOT NULL,
        products        integer NOT NULL,
        units           bigint NOT NULL,
        value_ht_cents  bigint NOT NULL,
        PRIMARY KEY (pharmacy_id, snapshot_on)
      )`);

    // Pharmacies that granted the groupement benchmark (aggregates only).
    await q.query(`
      CREATE TABLE benchmark_consents (
        pharmacy_id  uuid PRIMARY KEY REFERENCES pharmacies(id),
        granted_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'benchmark_consents', 'stock_rollups', 'sales_month_tickets', 'sales_month_rollups', 'sales_day_rollups', 'sales_ticket_days', 'sales_rollups',
      'ingest_quarantine', 'ingest_batches', 'regulatory_parameters', 'stock_snapshots', 'supplier_invoice_lines',
      'supplier_invoices', 'purchase_lines', 'sales_lines', 'suppliers', 'pharmacy_products', 'products', 'generic_groups',
    ]) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
