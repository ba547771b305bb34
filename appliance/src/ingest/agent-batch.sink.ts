import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { BatchSink, IncomingBatch } from '../agent-channel/batch-sink.js';
import type { RawBatch } from './ingest.schemas.js';
import type { IngestService } from './ingest.service.js';

type Row = Record<string, string | number | boolean | null>;

const day = (ts: unknown) => (typeof ts === 'string' ? ts.slice(0, 10) : ts);
const num = (v: unknown, d = 0) => (typeof v === 'number' ? v : d);

/** What the mapping needs to know about the batch's products, looked up once per batch. */
interface ProductFacts {
  family: Map<string, string>;
  vat: Map<string, number>;
  wac: Map<string, number>;
}

async function productFacts(tx: EntityManager, pharmacyId: string, codes: string[]): Promise<ProductFacts> {
  const cat = (await tx.query(
    `SELECT code, family, vat_rate::float8 AS vat FROM products WHERE code = ANY($2::bpchar[])
     UNION ALL
     SELECT code, family, vat_rate::float8 FROM pharmacy_products WHERE pharmacy_id = $1 AND code = ANY($2::bpchar[])`,
    [pharmacyId, codes],
  )) as { code: string; family: string; vat: number }[];
  // Unit cost at sale: the weighted average cost of the latest stock count, else the last net purchase price.
  const cost = (await tx.query(
    `SELECT c.code, coalesce(
        (SELECT wac_ht_cents FROM stock_snapshots s WHERE s.pharmacy_id = $1 AND s.product_code = c.code ORDER BY snapshot_on DESC LIMIT 1),
        (SELECT net_price_ht_cents FROM purchase_lines p WHERE p.pharmacy_id = $1 AND p.product_code = c.code ORDER BY purchase_day DESC LIMIT 1)) AS wac
     FROM unnest($2::bpchar[]) AS c(code)`,
    [pharmacyId, codes],
  )) as { code: string; wac: number | null }[];
  const facts: ProductFacts = { family: new Map(), vat: new Map(), wac: new Map() };
  for (const r of cat.reverse()) {
    facts.family.set(r.code, r.family); // the BDPM row (listed first) wins
    facts.vat.set(r.code, r.vat);
  }
  for (const r of cost) if (r.wac !== null) facts.wac.set(r.code, r.wac);
  return facts;
}

/**
 * Maps the agent's canonical records (agent/src/model/canonical-model.ts) onto the
 * ingestion sections. What the LGO does not send is derived: a sale's unit cost is
 * the product's weighted average cost, its type comes from the catalogue family, a
 * line discount lowers the unit price, a credit note is a negative quantity.
 */
export async function toRawBatch(tx: EntityManager, batch: IncomingBatch): Promise<RawBatch> {
  const rows = batch.rows as Row[];
  const codes = [...new Set(rows.map((r) => (r.product_code ?? r.code) as string).filter((c) => typeof c === 'string'))];
  const f = codes.length ? await productFacts(tx, batch.pharmacyId, codes) : { family: new Map(), vat: new Map(), wac: new Map() };
  switch (batch.entity) {
    case 'supplier':
      return {
        suppliers: rows.map((r) => ({
          sourceId: r.source_id,
          name: r.name,
          kind: ['wholesaler', 'lab', 'other'].includes(String(r.kind)) ? r.kind : /grossiste|répartiteur|repartiteur/i.test(String(r.kind)) ? 'wholesaler' : /labo/i.test(String(r.kind)) ? 'lab' : 'other',
        })),
      };
    case 'product':
      // BDPM presentations are the catalogue's business; the LGO only adds what the BDPM lacks.
      return {
        products: rows
          .filter((r) => !f.family.has(r.code as string) || f.family.get(r.code as string) === 'parapharmacy')
          .map((r) => ({ code: r.code, label: r.label, family: num(r.vat_rate, 20) === 20 ? 'parapharmacy' : 'non_reimbursable', vatRate: num(r.vat_rate, 20), lab: r.manufacturer ?? null })),
      };
    case 'sale_line':
      return {
        sales: rows.map((r) => {
          const code = r.product_code as string;
          const q = Math.abs(num(r.quantity)) * (r.is_credit_note === true ? -1 : 1) || num(r.quantity);
          const family = f.family.get(code);
          return {
            sourceId: r.source_id,
            ticketId: r.ticket_id,
            soldAt: r.sold_at,
            productCode: code,
            quantity: q,
            unitPriceTtcCents: Math.round(num(r.unit_price_ttc_cents) - num(r.discount_cents) / Math.max(1, Math.abs(q))),
            vatRate: typeof r.vat_rate === 'number' ? r.vat_rate : f.vat.get(code) ?? null,
            unitCostHtCents: f.wac.get(code) ?? 0,
            feeTtcCents: num(r.dispensing_fee_cents) * (q < 0 ? -1 : 1),
            saleType: family === 'reimbursable' ? 'prescription' : family === 'parapharmacy' || (!family && num(r.vat_rate) === 20) ? 'parapharmacy' : 'otc',
          };
        }),
      };
    case 'purchase_line':
      return {
        purchases: rows.map((r) => {
          const q = num(r.quantity);
          const net = num(r.unit_cost_ht_cents);
          const list = Math.round(net + num(r.discount_cents) / Math.max(1, q));
          return {
            sourceId: r.source_id,
            supplierSourceId: r.supplier_id,
            productCode: r.product_code,
            orderRef: r.order_id ?? null,
            status: 'received',
            orderedOn: day(r.received_at),
            receivedOn: day(r.received_at),
            quantity: q,
            freeUnits: num(r.free_units),
            listPriceHtCents: list,
            discountPct: list > 0 ? Math.round((1 - net / list) * 10_000) / 100 : 0,
            netPriceHtCents: net,
          };
        }),
      };
    case 'supplier_invoice':
      return {
        invoices: rows.map((r) => ({
          sourceId: r.source_id,
          supplierSourceId: r.supplier_id,
          invoiceNumber: r.invoice_number,
          issuedOn: r.invoice_date,
          totalHtCents: r.total_ht_cents,
          totalVatCents: num(r.total_ttc_cents, num(r.total_ht_cents)) - num(r.total_ht_cents),
          totalTtcCents: num(r.total_ttc_cents, num(r.total_ht_cents)),
          lines: [],
        })),
      };
    case 'stock':
      return {
        stock: rows.map((r) => ({
          snapshotOn: day(r.counted_at),
          productCode: r.product_code,
          quantity: r.quantity,
          wacHtCents: typeof r.unit_cost_ht_cents === 'number' ? r.unit_cost_ht_cents : f.wac.get(r.product_code as string) ?? 0,
        })),
      };
    default:
      return {};
  }
}

/**
 * The agent channel's sink backed by the ingestion service: runs inside the
 * channel's transaction, so the batch id, the high-water mark and the facts commit
 * together. Lines the service refuses are quarantined with their reason, not lost.
 */
export class IngestBatchSink implements BatchSink {
  constructor(private readonly service: IngestService) {}

  async ingest(tx: EntityManager, batch: IncomingBatch): Promise<{ rows: number }> {
    const id = `agent-${createHash('sha256').update(`${batch.agentId}|${batch.batchId}`).digest('hex').slice(0, 40)}`;
    const r = await this.service.ingestWithin(tx, batch.pharmacyId, id, await toRawBatch(tx, batch), { source: 'agent' });
    return { rows: Object.values(r.counts).reduce((a, c) => a + c.inserted + c.updated + c.unchanged, 0) };
  }
}
