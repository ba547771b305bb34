import type { DataSource } from 'typeorm';
import { IngestService } from '../../src/ingest/ingest.service.js';
import { createPharmacy, seedTestCatalogue, TEST_PRODUCTS as P } from './pharmacy-factory.js';

const s = (sourceId: string, soldAt: string, ticketId: string, productCode: string, quantity: number, unitPriceTtcCents: number, vatRate: number, unitCostHtCents: number, feeTtcCents: number) => ({
  sourceId, ticketId, soldAt, productCode, quantity, unitPriceTtcCents, vatRate, unitCostHtCents, feeTtcCents,
  saleType: vatRate === 20 ? 'parapharmacy' : vatRate === 10 ? 'otc' : 'prescription',
});

/**
 * A small pharmacy whose figures for March 2026 are computed by hand in
 * analytics.fixture.test.ts (every line's TTC, HT and cost are written there).
 */
export async function seedFixturePharmacy(ds: DataSource, groupementId?: string): Promise<string> {
  await seedTestCatalogue(ds);
  const ph = await createPharmacy(ds, { groupementId, name: 'Pharmacie Fixture' });
  await new IngestService(ds).ingestBatch(ph, 'fixture-1', {
    suppliers: [
      { sourceId: 'OCP', name: 'OCP Répartition', kind: 'wholesaler' },
      { sourceId: 'LAB', name: 'Laboratoire Dermo', kind: 'lab' },
    ],
    products: [{ code: P.para, label: 'Crème hydratante 50 ml', family: 'parapharmacy', vatRate: 20 }],
    sales: [
      s('L1', '2026-03-05T10:00:00+01:00', 'T1', P.generic, 2, 600, 2.1, 400, 204),
      s('L2', '2026-03-05T10:00:00+01:00', 'T1', P.princeps, 1, 1000, 2.1, 750, 102),
      s('L3', '2026-03-12T11:00:00+01:00', 'T2', P.otc, 1, 550, 10, 300, 0),
      s('L4', '2026-03-12T11:00:00+01:00', 'T2', P.para, 3, 1200, 20, 500, 0),
      s('L5', '2026-03-20T16:00:00+01:00', 'T3', P.para, -1, 1200, 20, 500, 0), // credit note
      s('L6', '2026-03-25T09:30:00+01:00', 'T4', P.generic, 1, 650, 2.1, 400, 102), // off its BDPM price (6,00 €)
      s('L7', '2026-03-25T09:30:00+01:00', 'T4', P.otc, 1, 250, 10, 300, 0), // below cost
      s('L8', '2026-02-10T10:00:00+01:00', 'T5', P.princeps, 1, 1000, 2.1, 750, 102), // previous period
      s('L9', '2025-03-15T10:00:00+01:00', 'T6', P.otc, 2, 550, 10, 300, 0), // same period last year
      s('L10', '2025-08-15T10:00:00+02:00', 'T7', P.other, 1, 2000, 2.1, 1500, 102), // last sale of a now dormant product
    ],
    purchases: [
      { sourceId: 'P1', supplierSourceId: 'OCP', productCode: P.generic, status: 'received', orderedOn: '2026-03-01', receivedOn: '2026-03-02',
        quantity: 10, freeUnits: 2, listPriceHtCents: 500, discountPct: 30, netPriceHtCents: 350 },
      { sourceId: 'P2', supplierSourceId: 'OCP', productCode: P.princeps, status: 'received', orderedOn: '2026-03-02', receivedOn: '2026-03-03',
        quantity: 5, listPriceHtCents: 700, discountPct: 1.43, netPriceHtCents: 690 },
      { sourceId: 'P3', supplierSourceId: 'LAB', productCode: P.para, status: 'received', orderedOn: '2026-03-03', receivedOn: '2026-03-04',
        quantity: 20, freeUnits: 4, listPriceHtCents: 500, discountPct: 20, netPriceHtCents: 400 },
      { sourceId: 'P4', supplierSourceId: 'OCP', productCode: P.otc, status: 'ordered', orderedOn: '2026-03-28',
        quantity: 6, listPriceHtCents: 300, netPriceHtCents: 300 },
    ],
    stock: [
      { snapshotOn: '2026-03-01', productCode: P.generic, quantity: 10, wacHtCents: 400 },
      { snapshotOn: '2026-03-01', productCode: P.otc, quantity: 5, wacHtCents: 300 },
      { snapshotOn: '2026-03-31', productCode: P.generic, quantity: 7, wacHtCents: 400 },
      { snapshotOn: '2026-03-31', productCode: P.otc, quantity: 3, wacHtCents: 300 },
      { snapshotOn: '2026-03-31', productCode: P.para, quantity: 20, wacHtCents: 500 },
      { snapshotOn: '2026-03-31', productCode: P.other, quantity: 4, wacHtCents: 1500 },
      { snapshotOn: '2026-03-31', productCode: P.princeps, quantity: 2, wacHtCents: 750 },
    ],
  }, { source: 'console' });
  return ph;
}
