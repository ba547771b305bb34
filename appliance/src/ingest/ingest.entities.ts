import { EntitySchema } from 'typeorm';

// Fact tables and ingest bookkeeping. Bulk writes go through COPY and SQL in
// ingest.repository.ts; these schemas give typed reads of single rows.

/** A supplier (wholesaler, lab) as the pharmacy's LGO identifies it. */
export interface Supplier {
  pharmacyId: string;
  sourceId: string;
  name: string;
  kind: 'wholesaler' | 'lab' | 'other';
  updatedAt: Date;
}

/** One sales line. No patient or prescriber reference of any kind. */
export interface SalesLine {
  pharmacyId: string;
  sourceId: string;
  ticketId: string;
  soldAt: Date;
  saleDay: string;
  productCode: string;
  quantity: number;
  unitPriceTtcCents: number;
  vatRate: string;
  unitCostHtCents: number;
  feeTtcCents: number;
  saleType: 'prescription' | 'otc' | 'parapharmacy';
  family: string;
  genericKind: 'none' | 'reference' | 'generic';
  amountTtcCents: string;
  amountHtCents: string;
  costHtCents: string;
}

/** One purchase line (order, then reception). */
export interface PurchaseLine {
  pharmacyId: string;
  sourceId: string;
  supplierSourceId: string;
  productCode: string;
  orderRef: string | null;
  status: 'ordered' | 'received' | 'cancelled';
  orderedOn: string;
  receivedOn: string | null;
  purchaseDay: string;
  quantity: number;
  freeUnits: number;
  listPriceHtCents: number;
  discountPct: string;
  netPriceHtCents: number;
  family: string;
  genericKind: string;
  listAmountHtCents: string;
  netAmountHtCents: string;
}

/** A supplier invoice header; the sha256 is the LGO's source file's. */
export interface SupplierInvoice {
  pharmacyId: string;
  sourceId: string;
  supplierSourceId: string;
  invoiceNumber: string;
  issuedOn: string;
  dueOn: string | null;
  totalHtCents: string;
  totalVatCents: string;
  totalTtcCents: string;
  fileSha256: string | null;
}

/** A supplier invoice line. */
export interface SupplierInvoiceLine {
  pharmacyId: string;
  invoiceSourceId: string;
  lineNo: number;
  productCode: string;
  quantity: number;
  freeUnits: number;
  unitPriceHtCents: number;
  vatRate: string;
  amountHtCents: string;
}

/** Stock of one product on one day, at weighted average cost. */
export interface StockSnapshot {
  pharmacyId: string;
  snapshotOn: string;
  productCode: string;
  quantity: number;
  wacHtCents: number;
  valueHtCents: string;
}

/** A batch already ingested: its id makes re-sends idempotent. */
export interface IngestBatch {
  pharmacyId: string;
  batchId: string;
  source: 'agent' | 'console' | 'generator';
  receivedAt: Date;
  counts: Record<string, unknown>;
}

/** A line refused at ingest, kept with its reason (never dropped silently). */
export interface QuarantineLine {
  pharmacyId: string;
  id: string;
  batchId: string;
  kind: string;
  lineNo: number;
  sourceId: string | null;
  reason: string;
  payload: unknown;
  receivedAt: Date;
}

const pharmacyId = { name: 'pharmacy_id', type: 'uuid', primary: true } as const;
const sourceId = { name: 'source_id', type: 'text', primary: true } as const;
const ro = { insert: false, update: false } as const;

export const SupplierEntity = new EntitySchema<Supplier>({
  name: 'Supplier',
  tableName: 'suppliers',
  columns: {
    pharmacyId, sourceId,
    name: { type: 'text' },
    kind: { type: 'text' },
    updatedAt: { name: 'updated_at', type: 'timestamptz' },
  },
});

export const SalesLineEntity = new EntitySchema<SalesLine>({
  name: 'SalesLine',
  tableName: 'sales_lines',
  columns: {
    pharmacyId, sourceId,
    ticketId: { name: 'ticket_id', type: 'text' },
    soldAt: { name: 'sold_at', type: 'timestamptz' },
    saleDay: { name: 'sale_day', type: 'date' },
    productCode: { name: 'product_code', type: 'char', length: 13 },
    quantity: { type: 'integer' },
    unitPriceTtcCents: { name: 'unit_price_ttc_cents', type: 'integer' },
    vatRate: { name: 'vat_rate', type: 'numeric', precision: 4, scale: 2 },
    unitCostHtCents: { name: 'unit_cost_ht_cents', type: 'integer' },
    feeTtcCents: { name: 'fee_ttc_cents', type: 'integer' },
    saleType: { name: 'sale_type', type: 'text' },
    family: { type: 'text' },
    genericKind: { name: 'generic_kind', type: 'text' },
    amountTtcCents: { name: 'amount_ttc_cents', type: 'bigint', ...ro },
    amountHtCents: { name: 'amount_ht_cents', type: 'bigint', ...ro },
    costHtCents: { name: 'cost_ht_cents', type: 'bigint', ...ro },
  },
});

export const PurchaseLineEntity = new EntitySchema<PurchaseLine>({
  name: 'PurchaseLine',
  tableName: 'purchase_lines',
  columns: {
    pharmacyId, sourceId,
    supplierSourceId: { name: 'supplier_source_id', type: 'text' },
    productCode: { name: 'product_code', type: 'char', length: 13 },
    orderRef: { name: 'order_ref', type: 'text', nullable: true },
    status: { type: 'text' },
    orderedOn: { name: 'ordered_on', type: 'date' },
    receivedOn: { name: 'received_on', type: 'date', nullable: true },
    purchaseDay: { name: 'purchase_day', type: 'date' },
    quantity: { type: 'integer' },
    freeUnits: { name: 'free_units', type: 'integer' },
    listPriceHtCents: { name: 'list_price_ht_cents', type: 'integer' },
    discountPct: { name: 'discount_pct', type: 'numeric', precision: 5, scale: 2 },
    netPriceHtCents: { name: 'net_price_ht_cents', type: 'integer' },
    family: { type: 'text' },
    genericKind: { name: 'generic_kind', type: 'text' },
    listAmountHtCents: { name: 'list_amount_ht_cents', type: 'bigint', ...ro },
    netAmountHtCents: { name: 'net_amount_ht_cents', type: 'bigint', ...ro },
  },
});

export const SupplierInvoiceEntity = new EntitySchema<SupplierInvoice>({
  name: 'SupplierInvoice',
  tableName: 'supplier_invoices',
  columns: {
    pharmacyId, sourceId,
    supplierSourceId: { name: 'supplier_source_id', type: 'text' },
    invoiceNumber: { name: 'invoice_number', type: 'text' },
    issuedOn: { name: 'issued_on', type: 'date' },
    dueOn: { name: 'due_on', type: 'date', nullable: true },
    totalHtCents: { name: 'total_ht_cents', type: 'bigint' },
    totalVatCents: { name: 'total_vat_cents', type: 'bigint' },
    totalTtcCents: { name: 'total_ttc_cents', type: 'bigint' },
    fileSha256: { name: 'file_sha256', type: 'char', length: 64, nullable: true },
  },
});

export const SupplierInvoiceLineEntity = new EntitySchema<SupplierInvoiceLine>({
  name: 'SupplierInvoiceLine',
  tableName: 'supplier_invoice_lines',
  columns: {
    pharmacyId,
    invoiceSourceId: { name: 'invoice_source_id', type: 'text', primary: true },
    lineNo: { name: 'line_no', type: 'integer', primary: true },
    productCode: { name: 'product_code', type: 'char', length: 13 },
    quantity: { type: 'integer' },
    freeUnits: { name: 'free_units', type: 'integer' },
    unitPriceHtCents: { name: 'unit_price_ht_cents', type: 'integer' },
    vatRate: { name: 'vat_rate', type: 'numeric', precision: 4, scale: 2 },
    amountHtCents: { name: 'amount_ht_cents', type: 'bigint' },
  },
});

export const StockSnapshotEntity = new EntitySchema<StockSnapshot>({
  name: 'StockSnapshot',
  tableName: 'stock_snapshots',
  columns: {
    pharmacyId,
    snapshotOn: { name: 'snapshot_on', type: 'date', primary: true },
    productCode: { name: 'product_code', type: 'char', length: 13, primary: true },
    quantity: { type: 'integer' },
    wacHtCents: { name: 'wac_ht_cents', type: 'integer' },
    valueHtCents: { name: 'value_ht_cents', type: 'bigint', ...ro },
  },
});

export const IngestBatchEntity = new EntitySchema<IngestBatch>({
  name: 'IngestBatch',
  tableName: 'ingest_batches',
  columns: {
    pharmacyId,
    batchId: { name: 'batch_id', type: 'text', primary: true },
    source: { type: 'text' },
    receivedAt: { name: 'received_at', type: 'timestamptz' },
    counts: { type: 'jsonb' },
  },
});

export const QuarantineLineEntity = new EntitySchema<QuarantineLine>({
  name: 'QuarantineLine',
  tableName: 'ingest_quarantine',
  columns: {
    pharmacyId,
    id: { type: 'bigint', primary: true, generated: 'increment' },
    batchId: { name: 'batch_id', type: 'text' },
    kind: { type: 'text' },
    lineNo: { name: 'line_no', type: 'integer' },
    sourceId: { name: 'source_id', type: 'text', nullable: true },
    reason: { type: 'text' },
    payload: { type: 'jsonb' },
    receivedAt: { name: 'received_at', type: 'timestamptz' },
  },
});
