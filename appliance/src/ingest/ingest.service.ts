import type pg from 'pg';
import type { DataSource } from 'typeorm';
import type { ZodType } from 'zod';
import { RegulatoryCalendar } from '../catalogue/regulatory.repository.js';
import { AppError } from '../http/errors.js';
import { IngestRepository, type QuarantineRow, type UpsertCounts } from './ingest.repository.js';
import {
  BATCH_KINDS,
  fastSalesLine,
  lineSchemas,
  type BatchKind,
  type InvoiceInput,
  type InvoiceItemInput,
  type ProductInput,
  type PurchaseInput,
  type RawBatch,
  type SalesInput,
  type StockInput,
  type SupplierInput,
} from './ingest.schemas.js';
import { pgPoolOf } from './pg-pool.js';
import { recordIngestedLines } from '../ops/metrics/metrics.js';

/** Per section: lines received, new, changed, identical to what was stored, quarantined. */
export interface SectionCounts {
  received: number;
  inserted: number;
  updated: number;
  unchanged: number;
  quarantined: number;
  /** Invoice lines of earlier batches, quarantined while their invoice was unknown, stored now that it came. */
  revived?: number;
}

/** Start of the quarantine reason of an invoice line whose invoice is unknown (such lines are revived when it comes). */
const UNKNOWN_INVOICE = 'facture inconnue';

/** What `ingestBatch` answers (and what a re-send of the same batch id answers again). */
export interface IngestResult {
  batchId: string;
  /** True when this batch id had already been ingested: nothing was written. */
  duplicate: boolean;
  counts: Record<BatchKind, SectionCounts>;
}

/** Who delivered the batch. */
export type IngestSource = 'agent' | 'console' | 'generator';

const BATCH_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Known fields only: a refused line's unknown fields (possibly personal data) are never stored. */
function sanitise(schema: ZodType, raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape ?? {};
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(shape)) {
    const v = (raw as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = k === 'lines' ? (Array.isArray(v) ? `[${v.length} lignes]` : null) : v;
  }
  return out;
}

function reasonOf(issues: { path: PropertyKey[]; message: string; code: string; keys?: string[] }[]): string {
  return issues
    .slice(0, 5)
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `champ(s) non autorisé(s) : ${(i.keys ?? []).join(', ')}`;
      const path = i.path.map(String).join('.');
      return path ? `${path} : ${i.message}` : i.message;
    })
    .join(' ; ');
}

function checkIds(pharmacyId: string, batchId: string): void {
  if (!UUID.test(pharmacyId)) throw new AppError(422, 'invalid_pharmacy', 'Pharmacie invalide.', 'pharmacy id is not a uuid');
  if (!BATCH_ID.test(batchId)) throw new AppError(422, 'invalid_batch_id', 'Identifiant de lot invalide.', 'bad batch id');
}

/** Counts a committed batch's accepted lines in the metrics (after commit, so a rollback counts nothing). */
export function recordIngested(result: IngestResult): void {
  if (result.duplicate) return;
  for (const k of BATCH_KINDS) recordIngestedLines(k, result.counts[k].received - result.counts[k].quarantined);
}

/** The invoice ids named by a batch's raw invoice lines (their invoices are looked up before validation). */
function invoiceIdsOf(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  const ids = new Set<string>();
  for (const l of raw) {
    const v = l && typeof l === 'object' ? (l as Record<string, unknown>).invoiceSourceId : undefined;
    if (typeof v === 'string') ids.add(v);
  }
  return [...ids];
}

function sourceIdOf(raw: unknown): string | null {
  const r = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : undefined;
  const v = r ? (r.sourceId ?? r.code ?? (typeof r.invoiceSourceId === 'string' ? `${r.invoiceSourceId}#${String(r.lineNo)}` : undefined)) : undefined;
  return typeof v === 'string' ? v.slice(0, 64) : null;
}

interface Validated {
  suppliers: SupplierInput[];
  products: ProductInput[];
  sales: SalesInput[];
  purchases: PurchaseInput[];
  invoices: InvoiceInput[];
  invoiceLines: InvoiceItemInput[];
  stock: StockInput[];
  quarantine: QuarantineRow[];
  received: Record<BatchKind, number>;
}

/**
 * Ingestion of a pharmacy's batch (from the agent channel or a file): validates every
 * line, quarantines the bad ones with their reason, bulk-upserts the good ones by
 * natural key and maintains the rollups, all in one transaction. Idempotent by
 * batch id: a re-sent batch writes nothing and gets the first answer back.
 */
export class IngestService {
  constructor(private readonly db: DataSource) {}

  /** Ingests one batch for `pharmacyId` in its own transaction; see IngestResult. */
  async ingestBatch(pharmacyId: string, batchId: string, batch: RawBatch, opts: { source?: IngestSource } = {}): Promise<IngestResult> {
    checkIds(pharmacyId, batchId);
    const pool = pgPoolOf(this.db);
    const client = await pool.connect();
    try {
      const exists = await client.query(`SELECT 1 FROM pharmacies WHERE id = $1`, [pharmacyId]);
      if (exists.rowCount !== 1) throw new AppError(404, 'pharmacy_not_found', 'Pharmacie inconnue.', 'no such pharmacy');
      await client.query('BEGIN');
      try {
        const result = await this.ingestWithin(client, pharmacyId, batchId, batch, opts);
        if (result.duplicate) await client.query('ROLLBACK');
        else await client.query('COMMIT');
        if (!result.duplicate) recordIngested(result);
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      client.release();
    }
  }

  /**
   * Ingests one batch on `client`, inside a transaction the caller opened and will
   * commit (the agent channel, so that the batch, its ack record and the channel's
   * high-water mark commit or roll back together). Nothing is committed here; call
   * `recordIngested` once the caller's transaction committed.
   */
  async ingestWithin(client: pg.PoolClient, pharmacyId: string, batchId: string, batch: RawBatch, opts: { source?: IngestSource } = {}): Promise<IngestResult> {
    checkIds(pharmacyId, batchId);
    const repo = new IngestRepository(client, pharmacyId);
    await repo.lockPharmacy();
    if (!(await repo.claimBatch(batchId, opts.source ?? 'agent'))) {
      const stored = await repo.batchCounts(batchId);
      return { batchId, duplicate: true, counts: stored as IngestResult['counts'] };
    }
    const calendar = await RegulatoryCalendar.load({ query: (sql: string) => client.query(sql).then((r) => r.rows) } as unknown as DataSource);
    const v = this.validate(batch, calendar, await repo.knownSuppliers(), await repo.invoiceDays(invoiceIdsOf(batch.invoiceLines)));
    const done: Partial<Record<BatchKind, UpsertCounts>> = {};
    done.suppliers = await repo.upsertSuppliers(v.suppliers);
    done.products = await repo.upsertProducts(v.products);
    done.sales = await repo.upsertSales(v.sales);
    done.purchases = await repo.upsertPurchases(v.purchases);
    done.invoices = await repo.upsertInvoices(v.invoices);
    const revived = await this.reviveOrphanLines(repo, v.invoices, calendar);
    done.invoiceLines = await repo.upsertInvoiceLines(v.invoiceLines);
    done.stock = await repo.upsertStock(v.stock);
    await repo.quarantine(batchId, v.quarantine);
    const counts = {} as IngestResult['counts'];
    for (const k of BATCH_KINDS) {
      const q = v.quarantine.filter((x) => x.kind === k).length;
      const { inserted, updated } = done[k]!;
      counts[k] = { received: v.received[k], inserted, updated, unchanged: v.received[k] - q - inserted - updated, quarantined: q };
    }
    if (revived) counts.invoiceLines.revived = revived;
    await repo.finishBatch(batchId, counts);
    return { batchId, duplicate: false, counts };
  }

  /**
   * Invoice lines can arrive before their invoice (the agent reads the invoice table,
   * then the lines table, while the LGO commits a new invoice in between): they were
   * quarantined as « facture inconnue ». When the invoice comes, they are checked again
   * and stored (before this batch's own lines, which are newer), and leave quarantine.
   */
  private async reviveOrphanLines(repo: IngestRepository, invoices: InvoiceInput[], calendar: RegulatoryCalendar): Promise<number> {
    const days = new Map(invoices.map((i) => [i.sourceId, i.issuedOn]));
    const orphans = await repo.orphanInvoiceLines([...days.keys()], UNKNOWN_INVOICE);
    if (!orphans.length) return 0;
    const latest = new Map<string, InvoiceItemInput>();
    const released: string[] = [];
    for (const o of orphans) {
      const r = lineSchemas.invoiceLines.safeParse(o.payload);
      if (!r.success || !calendar.isVatRate(r.data.vatRate, days.get(r.data.invoiceSourceId)!)) continue;
      latest.set(`${r.data.invoiceSourceId}|${r.data.lineNo}`, r.data); // quarantine ids grow: the last one wins
      released.push(o.id);
    }
    await repo.upsertInvoiceLines([...latest.values()]);
    await repo.releaseQuarantine(released);
    return released.length;
  }

  /** Zod per line, then the rules zod cannot know: VAT in force that day, known supplier, one line per key. */
  private validate(batch: RawBatch, calendar: RegulatoryCalendar, suppliers: Set<string>, invoiceDays: Map<string, string>): Validated {
    const quarantine: QuarantineRow[] = [];
    const received = {} as Record<BatchKind, number>;
    const parse = <T>(kind: BatchKind, check: (x: T) => string | null, key: (x: T) => string, fast?: (raw: unknown) => T | null): T[] => {
      const raw = batch[kind] ?? [];
      if (!Array.isArray(raw)) throw new AppError(422, 'invalid_batch', 'Lot invalide.', `${kind} is not an array`);
      received[kind] = raw.length;
      const schema = lineSchemas[kind] as unknown as ZodType<T>;
      const byKey = new Map<string, { line: T; lineNo: number; raw: unknown }>();
      for (let i = 0; i < raw.length; i++) {
        const quick = fast?.(raw[i]);
        const r = quick ? { success: true as const, data: quick } : schema.safeParse(raw[i]);
        const reason = r.success ? check(r.data) : reasonOf(r.error.issues as never);
        if (reason !== null) {
          quarantine.push({ kind, lineNo: i + 1, sourceId: sourceIdOf(raw[i]), reason, payload: sanitise(schema, raw[i]) });
          continue;
        }
        const k = key(r.data as T);
        const prev = byKey.get(k);
        if (prev) {
          quarantine.push({
            kind,
            lineNo: prev.lineNo,
            sourceId: sourceIdOf(prev.raw),
            reason: 'clé en double dans le lot : la dernière occurrence est retenue',
            payload: sanitise(schema, prev.raw),
          });
          byKey.delete(k);
        }
        byKey.set(k, { line: r.data as T, lineNo: i + 1, raw: raw[i] });
      }
      return [...byKey.values()].map((x) => x.line);
    };
    const vatSeen = new Map<string, string | null>();
    const vat = (rate: number, day: string) => {
      const k = `${rate}|${day}`;
      let v = vatSeen.get(k);
      if (v === undefined) vatSeen.set(k, (v = calendar.isVatRate(rate, day) ? null : `taux de TVA ${rate} % non en vigueur le ${day}`));
      return v;
    };
    const today = new Date().toISOString().slice(0, 10);

    const supplierLines = parse<SupplierInput>('suppliers', () => null, (x) => x.sourceId);
    for (const s of supplierLines) suppliers.add(s.sourceId);
    const knownSupplier = (id: string) => (suppliers.has(id) ? null : `fournisseur inconnu « ${id} »`);
    const invoices = parse<InvoiceInput>(
      'invoices',
      (x) => knownSupplier(x.supplierSourceId) ?? (x.lines ?? []).map((l) => vat(l.vatRate, x.issuedOn)).find((e) => e !== null) ?? null,
      (x) => x.sourceId,
    );
    // An invoice line needs its invoice (accepted in this batch, or stored) and a VAT rate in force on its day.
    for (const i of invoices) invoiceDays.set(i.sourceId, i.issuedOn);
    const invoiceLineCheck = (x: InvoiceItemInput) => {
      const day = invoiceDays.get(x.invoiceSourceId);
      return day === undefined ? `${UNKNOWN_INVOICE} « ${x.invoiceSourceId} »` : vat(x.vatRate, day);
    };
    return {
      suppliers: supplierLines,
      products: parse<ProductInput>('products', (x) => vat(x.vatRate, today), (x) => x.code),
      sales: parse<SalesInput>('sales', (x) => vat(x.vatRate, x.soldAt.slice(0, 10)), (x) => x.sourceId, fastSalesLine),
      purchases: parse<PurchaseInput>('purchases', (x) => knownSupplier(x.supplierSourceId), (x) => x.sourceId),
      invoices,
      invoiceLines: parse<InvoiceItemInput>('invoiceLines', invoiceLineCheck, (x) => `${x.invoiceSourceId}|${x.lineNo}`),
      stock: parse<StockInput>('stock', () => null, (x) => `${x.snapshotOn}|${x.productCode}`),
      quarantine,
      received,
    };
  }
}
