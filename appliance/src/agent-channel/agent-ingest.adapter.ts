import type { WireRecord } from '../../../agent/src/model/record-builder.js';
import type { RawBatch } from '../ingest/ingest.schemas.js';

/**
 * Canonical agent records (agent/src/model) → an IngestService batch section. A
 * pure mapping: it renames, derives what the ingest line schemas need from the
 * canonical fields, and leaves a missing or unexpected value missing, so the
 * ingest validation quarantines that line with its reason instead of guessing.
 */

type Raw = Record<string, unknown>;

const PARIS_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' });
/** Europe/Paris calendar day (YYYY-MM-DD) of a UTC ISO timestamp. */
export function parisDay(iso: unknown): string | undefined {
  if (typeof iso !== 'string') return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : PARIS_DAY.format(t);
}

const opt = (v: unknown) => (v === null ? undefined : v);
const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

const SUPPLIER_KINDS: Record<string, 'wholesaler' | 'lab' | 'other'> = {
  wholesaler: 'wholesaler', grossiste: 'wholesaler', repartiteur: 'wholesaler', 'répartiteur': 'wholesaler',
  lab: 'lab', laboratoire: 'lab', labo: 'lab',
  other: 'other', autre: 'other',
};

function supplier(r: WireRecord): Raw {
  const k = typeof r.kind === 'string' ? r.kind.trim().toLowerCase() : '';
  return { sourceId: r.source_id, name: r.name, kind: SUPPLIER_KINDS[k] ?? 'other' };
}

function product(r: WireRecord): Raw {
  return { code: r.code, label: r.label, family: opt(r.family), vatRate: opt(r.vat_rate), lab: r.manufacturer ?? null };
}

function sale(r: WireRecord): Raw {
  let q = num(r.quantity);
  if (q !== undefined && r.is_credit_note === true && q > 0) q = -q;
  let price = num(r.unit_price_ttc_cents);
  const discount = num(r.discount_cents);
  // IngestService has no discount column: a line discount lowers the unit price (rounded to the cent).
  if (price !== undefined && discount && q) price -= Math.round(discount / Math.abs(q));
  return {
    sourceId: r.source_id, ticketId: r.ticket_id, soldAt: r.sold_at, productCode: r.product_code, quantity: q,
    unitPriceTtcCents: price, vatRate: opt(r.vat_rate), unitCostHtCents: opt(r.unit_cost_ht_cents),
    feeTtcCents: r.dispensing_fee_cents ?? 0, saleType: opt(r.sale_type),
  };
}

function purchase(r: WireRecord): Raw {
  const receivedOn = parisDay(r.received_at);
  const net = num(r.unit_cost_ht_cents);
  const list = num(r.list_price_ht_cents) ?? net;
  const discountPct = net !== undefined && list ? Math.round((1 - net / list) * 10_000) / 100 : 0;
  return {
    sourceId: r.source_id, supplierSourceId: opt(r.supplier_id), productCode: r.product_code, orderRef: r.order_id ?? null,
    status: opt(r.status) ?? (receivedOn ? 'received' : 'ordered'), orderedOn: opt(r.ordered_on) ?? receivedOn, receivedOn: receivedOn ?? null,
    quantity: r.quantity, freeUnits: r.free_units ?? 0, listPriceHtCents: list, discountPct: Math.max(0, discountPct), netPriceHtCents: net,
  };
}

function invoice(r: WireRecord): Raw {
  const ht = num(r.total_ht_cents);
  const ttc = num(r.total_ttc_cents);
  return {
    sourceId: r.source_id, supplierSourceId: opt(r.supplier_id), invoiceNumber: r.invoice_number, issuedOn: r.invoice_date,
    totalHtCents: ht, totalVatCents: ht !== undefined && ttc !== undefined ? ttc - ht : undefined, totalTtcCents: ttc,
  };
}

/** Invoice lines travel as their own entity: upserted one by one, the invoice's other lines untouched. */
function invoiceLine(r: WireRecord): Raw {
  const q = num(r.quantity);
  const unit = num(r.unit_price_ht_cents);
  return {
    invoiceSourceId: r.invoice_id, lineNo: r.line_no, productCode: r.product_code, quantity: q, freeUnits: r.free_units ?? 0,
    unitPriceHtCents: unit, vatRate: opt(r.vat_rate), amountHtCents: opt(r.amount_ht_cents) ?? (q !== undefined && unit !== undefined ? q * unit : undefined),
  };
}

function stock(r: WireRecord): Raw {
  return { snapshotOn: opt(r.snapshot_on) ?? parisDay(r.counted_at), productCode: r.product_code, quantity: r.quantity, wacHtCents: opt(r.unit_cost_ht_cents) };
}

/** Drops undefined values, so the strict line schemas see "missing", never "undefined". */
function withoutUndefined(o: Raw): Raw {
  const out: Raw = {};
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

const SECTIONS = {
  supplier: ['suppliers', supplier],
  product: ['products', product],
  sale_line: ['sales', sale],
  purchase_line: ['purchases', purchase],
  supplier_invoice: ['invoices', invoice],
  supplier_invoice_line: ['invoiceLines', invoiceLine],
  stock: ['stock', stock],
} as const satisfies Record<string, readonly [keyof RawBatch, (r: WireRecord) => Raw]>;

/** Maps one agent batch (one entity) to the IngestService batch it becomes; throws on an entity outside the model. */
export function toIngestBatch(entity: string, rows: readonly WireRecord[]): RawBatch {
  if (!Object.prototype.hasOwnProperty.call(SECTIONS, entity)) throw new Error(`no ingest section for entity ${entity}`);
  const [section, map] = SECTIONS[entity as keyof typeof SECTIONS];
  return { [section]: rows.map((r) => withoutUndefined(map(r))) };
}

/** The ingest batch id of an agent batch (agent batch ids are 32 hex chars, unique per pharmacy). */
export const ingestBatchIdOf = (agentBatchId: string) => `agent-${agentBatchId}`;
