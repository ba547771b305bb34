import { z } from 'zod';
import { productCodeKind } from '../catalogue/product-code.js';

// Wire shape of an ingest batch, line by line. Every line schema is strict: a field
// the appliance does not know (a patient name, a prescriber id…) makes the line
// invalid, and only the known fields of a refused line are kept in quarantine.

const id = z.string().min(1).max(64).regex(/^[\x21-\x7e]+$/, 'identifiant : caractères imprimables sans espace');
const cents = z.number().int().min(0).max(1_000_000_000);
const signedCents = z.number().int().min(-1_000_000_000).max(1_000_000_000);
const day = z.iso.date();
const vatRate = z.number().min(0).max(99.99);

const idPattern = /^[\x21-\x7e]+$/;
const soldAtSchema = z.iso.datetime({ offset: true });

/** A product code with a valid EAN-13 check digit (CIP13, ACL13 or EAN13). */
export const productCode = z
  .string()
  .regex(/^[0-9]{13}$/, 'code produit : 13 chiffres attendus')
  .refine((c) => productCodeKind(c) !== null, 'code produit : clé de contrôle EAN-13 invalide');

/** A supplier as the LGO knows it. */
export const supplierLine = z.strictObject({
  sourceId: id,
  name: z.string().min(1).max(200),
  kind: z.enum(['wholesaler', 'lab', 'other']),
});

/** A product the LGO knows (typically parapharmacy, absent from the BDPM). */
export const productLine = z.strictObject({
  code: productCode,
  label: z.string().min(1).max(500),
  family: z.enum(['reimbursable', 'non_reimbursable', 'parapharmacy']),
  vatRate,
  lab: z.string().max(200).nullable().optional(),
});

/** A sales line: no patient or prescriber reference of any kind. Negative quantity = credit note. */
export const salesLine = z.strictObject({
  sourceId: id,
  ticketId: id,
  soldAt: soldAtSchema,
  productCode,
  quantity: z.number().int().min(-10_000).max(10_000).refine((q) => q !== 0, 'quantité nulle'),
  unitPriceTtcCents: cents,
  vatRate,
  unitCostHtCents: cents,
  feeTtcCents: signedCents.default(0),
  saleType: z.enum(['prescription', 'otc', 'parapharmacy']),
});

const SALES_KEYS = new Set(Object.keys(salesLine.shape));
const SALE_TYPES = new Set(['prescription', 'otc', 'parapharmacy']);
const isId = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 64 && idPattern.test(v);
const isInt = (v: unknown, min: number, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

/**
 * Fast path for the bulk of a batch: accepts a sales line only when `salesLine`
 * surely accepts it, and returns exactly what `salesLine` would. Anything else
 * returns null and goes through zod, which gives the reason. (A property test holds
 * the two together.) Zod alone costs several µs per line, too much at 10⁶ lines.
 */
export function fastSalesLine(raw: unknown): SalesInput | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.getPrototypeOf(raw) !== Object.prototype) return null;
  for (const k of Object.keys(raw)) if (!SALES_KEYS.has(k)) return null;
  const x = raw as Record<string, unknown>;
  const fee = x.feeTtcCents === undefined ? 0 : x.feeTtcCents;
  if (
    !isId(x.sourceId) || !isId(x.ticketId) ||
    typeof x.soldAt !== 'string' || !soldAtSchema.safeParse(x.soldAt).success ||
    typeof x.productCode !== 'string' || productCodeKind(x.productCode) === null ||
    !isInt(x.quantity, -10_000, 10_000) || x.quantity === 0 ||
    !isInt(x.unitPriceTtcCents, 0, 1_000_000_000) || !isInt(x.unitCostHtCents, 0, 1_000_000_000) ||
    typeof x.vatRate !== 'number' || !Number.isFinite(x.vatRate) || x.vatRate < 0 || x.vatRate > 99.99 ||
    !isInt(fee, -1_000_000_000, 1_000_000_000) ||
    typeof x.saleType !== 'string' || !SALE_TYPES.has(x.saleType)
  ) {
    return null;
  }
  return {
    sourceId: x.sourceId, ticketId: x.ticketId, soldAt: x.soldAt, productCode: x.productCode, quantity: x.quantity,
    unitPriceTtcCents: x.unitPriceTtcCents, vatRate: x.vatRate, unitCostHtCents: x.unitCostHtCents, feeTtcCents: fee,
    saleType: x.saleType as SalesInput['saleType'],
  };
}

/** A purchase line, from order to reception. */
export const purchaseLine = z
  .strictObject({
    sourceId: id,
    supplierSourceId: id,
    productCode,
    orderRef: z.string().max(64).nullable().optional(),
    status: z.enum(['ordered', 'received', 'cancelled']),
    orderedOn: day,
    receivedOn: day.nullable().optional(),
    quantity: z.number().int().min(0).max(100_000),
    freeUnits: z.number().int().min(0).max(100_000).default(0),
    listPriceHtCents: cents,
    discountPct: z.number().min(0).max(100).default(0),
    netPriceHtCents: cents,
  })
  .refine((p) => p.netPriceHtCents <= p.listPriceHtCents, { message: 'prix net supérieur au prix catalogue', path: ['netPriceHtCents'] })
  .refine((p) => p.status !== 'received' || !!p.receivedOn, { message: 'date de réception manquante', path: ['receivedOn'] });

/** The fields of one supplier invoice line. */
const invoiceItemFields = {
  lineNo: z.number().int().min(1).max(100_000),
  productCode,
  quantity: z.number().int().min(-100_000).max(100_000),
  freeUnits: z.number().int().min(0).max(100_000).default(0),
  unitPriceHtCents: cents,
  vatRate,
  amountHtCents: signedCents,
};

/**
 * A supplier invoice with its lines. With `lines`, they replace the invoice's stored
 * lines as a whole; without (the agent sends headers and lines as separate entities),
 * the stored lines are left as they are.
 */
export const invoiceLine = z
  .strictObject({
    sourceId: id,
    supplierSourceId: id,
    invoiceNumber: z.string().min(1).max(64),
    issuedOn: day,
    dueOn: day.nullable().optional(),
    totalHtCents: signedCents,
    totalVatCents: signedCents,
    totalTtcCents: signedCents,
    fileSha256: z.string().regex(/^[0-9a-f]{64}$/).nullable().optional(),
    lines: z.array(z.strictObject(invoiceItemFields)).max(10_000).optional(),
  })
  .refine((i) => i.totalTtcCents === i.totalHtCents + i.totalVatCents, { message: 'total TTC ≠ HT + TVA', path: ['totalTtcCents'] })
  .refine((i) => !i.lines || new Set(i.lines.map((l) => l.lineNo)).size === i.lines.length, { message: 'numéro de ligne en double', path: ['lines'] });

/**
 * One supplier invoice line on its own (the agent reads invoice lines from their own
 * LGO table): upserted by (invoice, line number), the invoice's other lines untouched.
 * Its invoice must be known (stored, or in the same batch).
 */
export const invoiceItemLine = z.strictObject({ invoiceSourceId: id, ...invoiceItemFields });

/** Stock of one product on one day at weighted average cost. */
export const stockLine = z.strictObject({
  snapshotOn: day,
  productCode,
  quantity: z.number().int().min(-1_000_000).max(1_000_000),
  wacHtCents: cents,
});

export type SupplierInput = z.infer<typeof supplierLine>;
export type ProductInput = z.infer<typeof productLine>;
export type SalesInput = z.infer<typeof salesLine>;
export type PurchaseInput = z.infer<typeof purchaseLine>;
export type InvoiceInput = z.infer<typeof invoiceLine>;
export type InvoiceItemInput = z.infer<typeof invoiceItemLine>;
export type StockInput = z.infer<typeof stockLine>;

/** Line schemas by batch section, in the order sections are applied. */
export const lineSchemas = {
  suppliers: supplierLine,
  products: productLine,
  sales: salesLine,
  purchases: purchaseLine,
  invoices: invoiceLine,
  invoiceLines: invoiceItemLine,
  stock: stockLine,
} as const;

export type BatchKind = keyof typeof lineSchemas;
export const BATCH_KINDS = Object.keys(lineSchemas) as BatchKind[];

/** A batch as the agent (or a file) delivers it: sections of raw, not yet validated lines. */
export type RawBatch = Partial<Record<BatchKind, unknown[]>>;

/** The envelope of a batch file fed through the console. */
export const batchFile = z.strictObject({
  batchId: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/),
  suppliers: z.array(z.unknown()).optional(),
  products: z.array(z.unknown()).optional(),
  sales: z.array(z.unknown()).optional(),
  purchases: z.array(z.unknown()).optional(),
  invoices: z.array(z.unknown()).optional(),
  invoiceLines: z.array(z.unknown()).optional(),
  stock: z.array(z.unknown()).optional(),
});
