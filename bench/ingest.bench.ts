/**
 * bench:ingest — lines/s of the ingestion service (validation, COPY into staging,
 * upsert by natural key, rollups and ticket counts maintained by delta, batch
 * bookkeeping) on 1 M sales lines, versus a raw COPY of the same rows into the same
 * table (same indexes and CHECKs, nothing else), measured in the same run on two
 * clones of one migrated database. Target: ratio ≥ 0.5.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { DataSource } from 'typeorm';
import { IngestService } from '../appliance/src/ingest/ingest.service.js';
import { pgPoolOf } from '../appliance/src/ingest/pg-pool.js';
import { createPharmacy, seedTestCatalogue, TEST_PRODUCTS } from '../appliance/test/helpers/pharmacy-factory.js';
import { startBenchPostgres } from './lib/bench-pg.js';
import { printResult, round } from './lib/bench-util.js';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 50_000);

interface Line {
  sourceId: string;
  ticketId: string;
  soldAt: string;
  productCode: string;
  quantity: number;
  unitPriceTtcCents: number;
  vatRate: number;
  unitCostHtCents: number;
  feeTtcCents: number;
  saleType: 'prescription' | 'otc' | 'parapharmacy';
}

const PRODUCTS = [
  { code: TEST_PRODUCTS.princeps, vat: 2.1, type: 'prescription', family: 'reimbursable', generic: 'reference', price: 1000 },
  { code: TEST_PRODUCTS.generic, vat: 2.1, type: 'prescription', family: 'reimbursable', generic: 'generic', price: 600 },
  { code: TEST_PRODUCTS.other, vat: 2.1, type: 'prescription', family: 'reimbursable', generic: 'none', price: 2000 },
  { code: TEST_PRODUCTS.otc, vat: 10, type: 'otc', family: 'non_reimbursable', generic: 'none', price: 550 },
  { code: TEST_PRODUCTS.para, vat: 20, type: 'parapharmacy', family: 'parapharmacy', generic: 'none', price: 1200 },
] as const;

/** 1 M deterministic sales lines over a year, ~2.5 lines per ticket, 0.5 % credit notes. */
function makeLines(n: number): Line[] {
  const out: Line[] = new Array(n);
  let seed = 12345;
  const r = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const start = Date.UTC(2025, 0, 1);
  for (let i = 0; i < n; i++) {
    const p = PRODUCTS[Math.floor(r() * PRODUCTS.length)]!;
    const ticket = Math.floor(i / 2.5);
    const at = new Date(start + Math.floor((ticket / (n / 2.5)) * 365 * 86_400_000));
    const q = r() < 0.005 ? -1 : 1 + Math.floor(r() * 2);
    out[i] = {
      sourceId: `S${i}`,
      ticketId: `T${ticket}`,
      soldAt: at.toISOString().replace('.000Z', 'Z'),
      productCode: p.code,
      quantity: q,
      unitPriceTtcCents: p.price,
      vatRate: p.vat,
      unitCostHtCents: Math.round(p.price * 0.6),
      feeTtcCents: p.type === 'prescription' ? 102 * q : 0,
      saleType: p.type,
    };
  }
  return out;
}

const parisDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Baseline: the same rows, already resolved, straight into sales_lines with one COPY. */
async function rawCopy(ds: DataSource, pharmacyId: string, lines: Line[]): Promise<number> {
  const meta = new Map<string, (typeof PRODUCTS)[number]>(PRODUCTS.map((p) => [p.code, p]));
  const days = lines.map((l) => parisDay.format(new Date(l.soldAt)));
  const client = await pgPoolOf(ds).connect();
  try {
    const t0 = performance.now();
    const stream = client.query(
      copyFrom(`COPY sales_lines (pharmacy_id, source_id, ticket_id, sold_at, sale_day, product_code, quantity, unit_price_ttc_cents, vat_rate,
        unit_cost_ht_cents, fee_ttc_cents, sale_type, family, generic_kind) FROM STDIN`),
    );
    function* text() {
      let buf = '';
      for (let i = 0; i < lines.length; i++) {
        const l = lines[i]!;
        const m = meta.get(l.productCode)!;
        buf += `${pharmacyId}\t${l.sourceId}\t${l.ticketId}\t${l.soldAt}\t${days[i]}\t${l.productCode}\t${l.quantity}\t${l.unitPriceTtcCents}\t${l.vatRate}\t${l.unitCostHtCents}\t${l.feeTtcCents}\t${l.saleType}\t${m.family}\t${m.generic}\n`;
        if (i % 2000 === 1999) {
          yield buf;
          buf = '';
        }
      }
      if (buf) yield buf;
    }
    await pipeline(Readable.from(text()), stream);
    return performance.now() - t0;
  } finally {
    client.release();
  }
}

async function main(): Promise<void> {
  const pg = await startBenchPostgres();
  try {
    const lines = makeLines(LINES);
    const dsService = await pg.database('bench_ingest_service');
    const dsRaw = await pg.database('bench_ingest_raw');
    for (const ds of [dsService, dsRaw]) await seedTestCatalogue(ds);
    const phService = await createPharmacy(dsService);
    const phRaw = await createPharmacy(dsRaw);

    const rawMs = await rawCopy(dsRaw, phRaw, lines);

    const svc = new IngestService(dsService);
    const t0 = performance.now();
    let stored = 0;
    for (let i = 0; i < lines.length; i += CHUNK) {
      const r = await svc.ingestBatch(phService, `bench-${i / CHUNK}`, { sales: lines.slice(i, i + CHUNK) });
      stored += r.counts.sales.inserted;
    }
    const serviceMs = performance.now() - t0;
    if (stored !== lines.length) throw new Error(`service stored ${stored} of ${lines.length} lines`);
    const [check] = (await dsService.query(`SELECT sum(lines)::int AS n FROM sales_rollups WHERE pharmacy_id = $1`, [phService])) as { n: number }[];
    if (check!.n !== lines.length) throw new Error(`rollups count ${check!.n} lines`);

    const serviceRate = lines.length / (serviceMs / 1000);
    const rawRate = lines.length / (rawMs / 1000);
    printResult({
      bench: 'ingest',
      lines: lines.length,
      batch_lines: CHUNK,
      service_seconds: round(serviceMs / 1000),
      raw_copy_seconds: round(rawMs / 1000),
      service_lines_per_s: Math.round(serviceRate),
      raw_copy_lines_per_s: Math.round(rawRate),
      ratio: round(serviceRate / rawRate, 3),
      target: '>= 0.5',
    });
  } finally {
    await pg.stop();
  }
}

await main();
