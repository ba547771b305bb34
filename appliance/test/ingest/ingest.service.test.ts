import t from 'tap';
import { IngestService } from '../../src/ingest/ingest.service.js';
import { createTestDataSource } from '../helpers/db.js';
import { createPharmacy, seedTestCatalogue, TEST_PRODUCTS as P } from '../helpers/pharmacy-factory.js';
import { ingestFingerprint, rollupsVsRecomputation } from '../helpers/rollup-check.js';

const sale = (id: string, over: Record<string, unknown> = {}) => ({
  sourceId: id,
  ticketId: 'T1',
  soldAt: '2026-03-10T09:15:00+01:00',
  productCode: P.generic,
  quantity: 2,
  unitPriceTtcCents: 600,
  vatRate: 2.1,
  unitCostHtCents: 350,
  feeTtcCents: 204,
  saleType: 'prescription',
  ...over,
});

t.test('ingestion: good lines stored, bad ones quarantined with reasons, re-sends change nothing', async (t) => {
  const { ds } = await createTestDataSource(t);
  await seedTestCatalogue(ds);
  const ph = await createPharmacy(ds);
  const other = await createPharmacy(ds);
  const svc = new IngestService(ds);

  const batch = {
    suppliers: [{ sourceId: 'OCP', name: 'OCP Répartition', kind: 'wholesaler' }],
    products: [{ code: P.para, label: 'Crème hydratante 50 ml', family: 'parapharmacy', vatRate: 20 }],
    sales: [
      sale('S1'),
      sale('S2', { productCode: P.para, unitPriceTtcCents: 1200, vatRate: 20, unitCostHtCents: 500, feeTtcCents: 0, saleType: 'parapharmacy', quantity: 1 }),
      sale('S3', { productCode: '3400930000015' }), // wrong check digit
      sale('S4', { patientName: 'Jean Dupont' }), // a field that must never be accepted
      sale('S5', { vatRate: 7 }), // no such VAT rate
      sale('S6', { quantity: 0 }),
    ],
    purchases: [
      { sourceId: 'A1', supplierSourceId: 'OCP', productCode: P.generic, status: 'received', orderedOn: '2026-03-01', receivedOn: '2026-03-02',
        quantity: 10, freeUnits: 2, listPriceHtCents: 500, discountPct: 30, netPriceHtCents: 350 },
      { sourceId: 'A2', supplierSourceId: 'NOPE', productCode: P.generic, status: 'ordered', orderedOn: '2026-03-01',
        quantity: 1, listPriceHtCents: 500, netPriceHtCents: 500 },
    ],
    invoices: [
      { sourceId: 'F1', supplierSourceId: 'OCP', invoiceNumber: 'FAC-001', issuedOn: '2026-03-02', dueOn: '2026-04-02',
        totalHtCents: 3500, totalVatCents: 74, totalTtcCents: 3574, fileSha256: 'a'.repeat(64),
        lines: [{ lineNo: 1, productCode: P.generic, quantity: 10, freeUnits: 2, unitPriceHtCents: 350, vatRate: 2.1, amountHtCents: 3500 }] },
    ],
    stock: [{ snapshotOn: '2026-03-31', productCode: P.generic, quantity: 8, wacHtCents: 292 }],
  };

  const r = await svc.ingestBatch(ph, 'batch-1', batch);
  t.equal(r.duplicate, false);
  t.same(r.counts.sales, { received: 6, inserted: 2, updated: 0, unchanged: 0, quarantined: 4 }, 'sales counts');
  t.same(r.counts.purchases, { received: 2, inserted: 1, updated: 0, unchanged: 0, quarantined: 1 }, 'purchase counts');
  t.same(r.counts.invoices, { received: 1, inserted: 1, updated: 0, unchanged: 0, quarantined: 0 });
  t.same(r.counts.stock, { received: 1, inserted: 1, updated: 0, unchanged: 0, quarantined: 0 });
  t.same(r.counts.suppliers, { received: 1, inserted: 1, updated: 0, unchanged: 0, quarantined: 0 });

  const q = (await ds.query(`SELECT kind, line_no, source_id, reason, payload FROM ingest_quarantine WHERE pharmacy_id = $1 ORDER BY kind, line_no`, [ph])) as {
    kind: string; line_no: number; source_id: string; reason: string; payload: Record<string, unknown>;
  }[];
  t.same(q.map((x) => [x.kind, x.source_id]), [['purchases', 'A2'], ['sales', 'S3'], ['sales', 'S4'], ['sales', 'S5'], ['sales', 'S6']]);
  t.match(q[0]!.reason, /fournisseur inconnu « NOPE »/);
  t.match(q[1]!.reason, /productCode : code produit : clé de contrôle EAN-13 invalide/, 'wrong CIP13 check digit rejected');
  t.match(q[2]!.reason, /champ\(s\) non autorisé\(s\) : patientName/);
  t.notOk('patientName' in q[2]!.payload, 'the refused personal field is not kept in quarantine');
  t.equal(q[2]!.payload.sourceId, 'S4', 'known fields kept for the operator');
  t.match(q[3]!.reason, /taux de TVA 7 % non en vigueur le 2026-03-10/);
  t.match(q[4]!.reason, /quantité nulle/);

  const lines = (await ds.query(
    `SELECT source_id, sale_day::text, family, generic_kind, amount_ttc_cents::int, amount_ht_cents::int, cost_ht_cents::int FROM sales_lines WHERE pharmacy_id = $1 ORDER BY 1`,
    [ph],
  )) as Record<string, unknown>[];
  t.same(lines, [
    // 2 × 6,00 + 2,04 = 14,04 TTC → HT 14,04 / 1,021 = 13,75 ; cost 2 × 3,50
    { source_id: 'S1', sale_day: '2026-03-10', family: 'reimbursable', generic_kind: 'generic', amount_ttc_cents: 1404, amount_ht_cents: 1375, cost_ht_cents: 700 },
    // 12,00 TTC at 20 % → 10,00 HT
    { source_id: 'S2', sale_day: '2026-03-10', family: 'parapharmacy', generic_kind: 'none', amount_ttc_cents: 1200, amount_ht_cents: 1000, cost_ht_cents: 500 },
  ]);
  t.same(await ds.query(`SELECT count(*)::int AS n FROM sales_lines WHERE pharmacy_id = $1`, [other]), [{ n: 0 }], 'other tenant untouched');

  const before = await ingestFingerprint(ds, ph);
  const again = await svc.ingestBatch(ph, 'batch-1', batch);
  t.equal(again.duplicate, true, 're-sent batch recognised');
  t.same(again.counts, r.counts, 're-sent batch gets the first answer');
  t.same(await ingestFingerprint(ds, ph), before, 're-sending a batch changes nothing');

  // Same lines under a new batch id (agent lost the ack and re-packed): facts and rollups unchanged.
  const repacked = await svc.ingestBatch(ph, 'batch-2', { sales: batch.sales.slice(0, 2), stock: batch.stock, invoices: batch.invoices, purchases: batch.purchases.slice(0, 1) });
  t.same(repacked.counts.sales, { received: 2, inserted: 0, updated: 0, unchanged: 2, quarantined: 0 });
  t.same(repacked.counts.invoices, { received: 1, inserted: 0, updated: 0, unchanged: 1, quarantined: 0 });
  t.same(repacked.counts.purchases, { received: 1, inserted: 0, updated: 0, unchanged: 1, quarantined: 0 });
  const after = await ingestFingerprint(ds, ph);
  for (const k of ['sales_lines', 'sales_rollups', 'sales_day_rollups', 'stock_rollups', 'supplier_invoice_lines', 'purchase_lines']) {
    t.equal(after[k], before[k], `${k} unchanged by re-packed lines`);
  }

  // A corrected line moves its old values out of the rollups (no double count).
  const fix = await svc.ingestBatch(ph, 'batch-3', { sales: [sale('S1', { quantity: 3, soldAt: '2026-03-11T10:00:00+01:00', ticketId: 'T9' })] });
  t.same(fix.counts.sales, { received: 1, inserted: 0, updated: 1, unchanged: 0, quarantined: 0 });
  const roll = await rollupsVsRecomputation(ds, ph);
  t.same(roll.stored, roll.recomputed, 'rollups equal recomputation after an update');
  t.same(
    await ds.query(`SELECT day::text, tickets FROM sales_day_rollups WHERE pharmacy_id = $1 ORDER BY day`, [ph]),
    [{ day: '2026-03-10', tickets: 1 }, { day: '2026-03-11', tickets: 1 }],
    'tickets follow the moved line',
  );

  // Duplicate keys inside one batch: last one wins, the earlier is quarantined.
  const dup = await svc.ingestBatch(ph, 'batch-4', { sales: [sale('S7', { quantity: 1 }), sale('S7', { quantity: 5 })] });
  t.same(dup.counts.sales, { received: 2, inserted: 1, updated: 0, unchanged: 0, quarantined: 1 });
  t.same(await ds.query(`SELECT quantity FROM sales_lines WHERE pharmacy_id = $1 AND source_id = 'S7'`, [ph]), [{ quantity: 5 }]);

  await t.rejects(svc.ingestBatch(ph, 'bad id with spaces', {}), { code: 'invalid_batch_id' });
  await t.rejects(svc.ingestBatch('00000000-0000-4000-8000-000000000000', 'b', {}), { code: 'pharmacy_not_found' });
});

t.test('the database refuses a wrong EAN-13 check digit even without the service', async (t) => {
  const { ds } = await createTestDataSource(t);
  const ph = await createPharmacy(ds);
  await t.rejects(
    ds.query(
      `INSERT INTO sales_lines (pharmacy_id, source_id, ticket_id, sold_at, sale_day, product_code, quantity, unit_price_ttc_cents, vat_rate,
         unit_cost_ht_cents, sale_type, family, generic_kind) VALUES ($1, 'x', 't', now(), current_date, '3400930000015', 1, 1, 2.1, 1, 'otc', 'reimbursable', 'none')`,
      [ph],
    ),
    /sales_lines_product_code_check/,
  );
  await t.rejects(
    ds.query(`INSERT INTO products (code, code_kind, label, family, vat_rate, source) VALUES ('3400930000015', 'cip13', 'x', 'reimbursable', 2.1, 'bdpm')`),
    /products_code_check/,
  );
  await ds.query(`INSERT INTO products (code, code_kind, label, family, vat_rate, source) VALUES ('3400930000052', 'cip13', 'x', 'reimbursable', 2.1, 'bdpm')`);
  t.pass('a valid CIP13 is accepted by the same CHECK');
});
