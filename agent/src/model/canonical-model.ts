/**
 * The canonical commercial model — and therefore the allowlist. It is compiled in:
 * nothing the agent sends exists outside this object, and no configuration or LGO
 * profile can add an entity or a field to it. Records are built by walking these
 * fields, never the profile's, so an unknown key cannot slip through.
 *
 * Field types:
 *  - id: an opaque identifier from the LGO (≤ 64 chars, [A-Za-z0-9_.:/-])
 *  - code: a product code (CIP13/ACL13/EAN13 with its check digit, or CIP7 with its key)
 *  - text: short free text (≤ 200 chars), scanned hardest (see value-scanner)
 *  - int, cents (money as integer cents), rate (VAT %, 0–100, 2 decimals), bool
 *  - timestamp (UTC ISO 8601; local LGO times are read as Europe/Paris), date (YYYY-MM-DD)
 */
export type FieldType = 'id' | 'code' | 'text' | 'int' | 'cents' | 'rate' | 'bool' | 'timestamp' | 'date';

export interface FieldSpec {
  type: FieldType;
  required?: boolean;
}

export const CANONICAL_MODEL = {
  product: {
    source_id: { type: 'id', required: true },
    code: { type: 'code', required: true },
    label: { type: 'text', required: true },
    vat_rate: { type: 'rate' },
    list_price_cents: { type: 'cents' },
    manufacturer: { type: 'text' },
    /** reimbursable | non_reimbursable | parapharmacy (commercial classification). */
    family: { type: 'id' },
  },
  supplier: {
    source_id: { type: 'id', required: true },
    name: { type: 'text', required: true },
    kind: { type: 'text' },
  },
  sale_line: {
    source_id: { type: 'id', required: true },
    ticket_id: { type: 'id', required: true },
    sold_at: { type: 'timestamp', required: true },
    product_code: { type: 'code', required: true },
    quantity: { type: 'int', required: true },
    unit_price_ttc_cents: { type: 'cents', required: true },
    discount_cents: { type: 'cents' },
    vat_rate: { type: 'rate' },
    dispensing_fee_cents: { type: 'cents' },
    is_credit_note: { type: 'bool' },
    /** prescription | otc | parapharmacy: the kind of sale, never the prescription itself. */
    sale_type: { type: 'id' },
    unit_cost_ht_cents: { type: 'cents' },
  },
  purchase_line: {
    source_id: { type: 'id', required: true },
    order_id: { type: 'id' },
    supplier_id: { type: 'id' },
    /** ordered | received | cancelled; an order line not yet received has no received_at. */
    status: { type: 'id' },
    ordered_on: { type: 'date' },
    received_at: { type: 'timestamp' },
    product_code: { type: 'code', required: true },
    quantity: { type: 'int', required: true },
    free_units: { type: 'int' },
    /** Net unit cost (after discount). */
    unit_cost_ht_cents: { type: 'cents', required: true },
    /** Catalogue (list) unit price before discount. */
    list_price_ht_cents: { type: 'cents' },
    discount_cents: { type: 'cents' },
    vat_rate: { type: 'rate' },
    comment: { type: 'text' },
  },
  supplier_invoice: {
    source_id: { type: 'id', required: true },
    supplier_id: { type: 'id' },
    invoice_number: { type: 'id', required: true },
    invoice_date: { type: 'date', required: true },
    total_ht_cents: { type: 'cents', required: true },
    total_ttc_cents: { type: 'cents' },
    comment: { type: 'text' },
  },
  /** One line of a supplier invoice (product, quantity, price): lands in the invoice's lines. */
  supplier_invoice_line: {
    source_id: { type: 'id', required: true },
    /** The invoice's source_id (supplier_invoice.source_id). */
    invoice_id: { type: 'id', required: true },
    line_no: { type: 'int', required: true },
    product_code: { type: 'code', required: true },
    quantity: { type: 'int', required: true },
    free_units: { type: 'int' },
    unit_price_ht_cents: { type: 'cents', required: true },
    vat_rate: { type: 'rate' },
    /** Line amount before VAT; quantity × unit price when the LGO does not store it. */
    amount_ht_cents: { type: 'cents' },
  },
  stock: {
    source_id: { type: 'id', required: true },
    product_code: { type: 'code', required: true },
    quantity: { type: 'int', required: true },
    unit_cost_ht_cents: { type: 'cents' },
    counted_at: { type: 'timestamp', required: true },
    /** Day the snapshot stands for (defaults to the Paris day of counted_at). */
    snapshot_on: { type: 'date' },
  },
} as const satisfies Record<string, Record<string, FieldSpec>>;

export type EntityName = keyof typeof CANONICAL_MODEL;

/** Entities in the order a sync sends them (reference data first). */
export const ENTITY_ORDER: readonly EntityName[] = ['product', 'supplier', 'stock', 'purchase_line', 'supplier_invoice', 'supplier_invoice_line', 'sale_line'];

/** True when `name` is an entity of the compiled model. */
export function isEntity(name: string): name is EntityName {
  return Object.prototype.hasOwnProperty.call(CANONICAL_MODEL, name);
}

/** The field specs of an entity, as a plain record. */
export function fieldsOf(entity: EntityName): Readonly<Record<string, FieldSpec>> {
  return CANONICAL_MODEL[entity] as Readonly<Record<string, FieldSpec>>;
}
