import fc from 'fast-check';
import t from 'tap';
import { IngestService } from '../../src/ingest/ingest.service.js';
import { createTestDataSource } from '../helpers/db.js';
import { createPharmacy, seedTestCatalogue, TEST_PRODUCTS as P } from '../helpers/pharmacy-factory.js';
import { rollupsVsRecomputation } from '../helpers/rollup-check.js';

// Small pools so random batches collide: re-sent lines, corrected lines (other day,
// ticket, product, sign), credit notes, whole batches re-sent under the same id.
const product = fc.constantFrom(
  { code: P.princeps, vat: 2.1, type: 'prescription' },
  { code: P.generic, vat: 2.1, type: 'prescription' },
  { code: P.otc, vat: 10, type: 'otc' },
  { code: P.para, vat: 20, type: 'parapharmacy' },
);
const salesLine = fc
  .record({
    id: fc.integer({ min: 1, max: 25 }),
    ticket: fc.integer({ min: 1, max: 6 }),
    day: fc.integer({ min: 1, max: 4 }),
    hour: fc.integer({ min: 0, max: 23 }),
    product,
    quantity: fc.integer({ min: -2, max: 4 }).filter((q) => q !== 0),
    price: fc.integer({ min: 0, max: 5000 }),
    cost: fc.integer({ min: 0, max: 4000 }),
    fee: fc.integer({ min: -110, max: 300 }),
  })
  .map((x) => ({
    sourceId: `L${x.id}`,
    ticketId: `T${x.ticket}`,
    soldAt: `${['2026-01-30', '2026-01-31', '2026-02-01', '2026-02-02'][x.day - 1]}T${String(x.hour).padStart(2, '0')}:30:00Z`, // across a month end
    productCode: x.product.code,
    quantity: x.quantity,
    unitPriceTtcCents: x.price,
    vatRate: x.product.vat,
    unitCostHtCents: x.cost,
    feeTtcCents: x.fee,
    saleType: x.product.type,
  }));
const stockLine = fc.record({
  snapshotOn: fc.constantFrom('2026-01-31', '2026-02-28'),
  productCode: fc.constantFrom(P.princeps, P.generic, P.otc),
  quantity: fc.integer({ min: -3, max: 50 }),
  wacHtCents: fc.integer({ min: 0, max: 3000 }),
});
const batch = fc.record({
  id: fc.integer({ min: 1, max: 8 }),
  sales: fc.array(salesLine, { maxLength: 12 }),
  stock: fc.array(stockLine, { maxLength: 4 }),
});

t.test('property: rollups equal a full recomputation from the fact tables after random batches', async (t) => {
  const { ds } = await createTestDataSource(t);
  await seedTestCatalogue(ds);
  const svc = new IngestService(ds);
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 8 }), async (batches) => {
      const ph = await createPharmacy(ds);
      for (const b of batches) {
        // The same batch id always carries the same content (as the agent guarantees).
        const same = batches.find((x) => x.id === b.id)!;
        await svc.ingestBatch(ph, `b${b.id}`, { sales: same.sales, stock: same.stock });
        await svc.ingestBatch(ph, `r${runs}-${Math.random()}`, { sales: b.sales.slice(0, 3) }); // re-sent lines, new batch id
      }
      runs++;
      const r = await rollupsVsRecomputation(ds, ph);
      return JSON.stringify(r.stored) === JSON.stringify(r.recomputed);
    }),
    { numRuns: 40, seed: Number(process.env.PROPERTY_SEED ?? 20261121) },
  );
  t.equal(runs, 40, '40 random histories checked');
  t.pass('rollups (cells, tickets, stock) equal the recomputation in every run');
});
