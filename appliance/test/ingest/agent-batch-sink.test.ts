import { randomUUID } from 'node:crypto';
import t from 'tap';
import { IngestBatchSink } from '../../src/ingest/agent-batch.sink.js';
import { IngestService } from '../../src/ingest/ingest.service.js';
import { createTestDataSource } from '../helpers/db.js';
import { createPharmacy, seedTestCatalogue, TEST_PRODUCTS as P } from '../helpers/pharmacy-factory.js';
import { rollupsVsRecomputation } from '../helpers/rollup-check.js';

t.test('agent channel sink: canonical agent records land as facts, inside the channel’s transaction', async (t) => {
  const { ds } = await createTestDataSource(t);
  await seedTestCatalogue(ds);
  const ph = await createPharmacy(ds);
  const sink = new IngestBatchSink(new IngestService(ds));
  const agentId = randomUUID();
  const send = (batchId: string, entity: string, rows: Record<string, unknown>[]) =>
    ds.transaction((tx) => sink.ingest(tx, { pharmacyId: ph, agentId, batchId, entity, rows: rows as never }));

  t.same(await send('b1', 'supplier', [{ source_id: 'OCP', name: 'OCP', kind: 'grossiste-répartiteur' }]), { rows: 1 });
  t.same(await send('b2', 'stock', [{ source_id: 'K1', product_code: P.generic, quantity: 12, unit_cost_ht_cents: 410, counted_at: '2026-03-01T07:00:00.000Z' }]), { rows: 1 });
  t.same(
    await send('b3', 'purchase_line', [{ source_id: 'A1', supplier_id: 'OCP', received_at: '2026-03-02T08:00:00.000Z', product_code: P.generic, quantity: 10,
      free_units: 1, unit_cost_ht_cents: 400, discount_cents: 1000 }]),
    { rows: 1 },
  );
  const r = await send('b4', 'sale_line', [
    { source_id: 'V1', ticket_id: 'T1', sold_at: '2026-03-10T09:00:00.000Z', product_code: P.generic, quantity: 2, unit_price_ttc_cents: 600,
      discount_cents: 20, dispensing_fee_cents: 204 },
    { source_id: 'V2', ticket_id: 'T2', sold_at: '2026-03-11T09:00:00.000Z', product_code: P.generic, quantity: 1, unit_price_ttc_cents: 600,
      is_credit_note: true, dispensing_fee_cents: 102 },
  ]);
  t.same(r, { rows: 2 });
  t.same(
    await ds.query(`SELECT source_id, quantity, unit_price_ttc_cents, vat_rate::text, unit_cost_ht_cents, fee_ttc_cents, sale_type FROM sales_lines WHERE pharmacy_id = $1 ORDER BY 1`, [ph]),
    [
      { source_id: 'V1', quantity: 2, unit_price_ttc_cents: 590, vat_rate: '2.10', unit_cost_ht_cents: 410, fee_ttc_cents: 204, sale_type: 'prescription' },
      { source_id: 'V2', quantity: -1, unit_price_ttc_cents: 600, vat_rate: '2.10', unit_cost_ht_cents: 410, fee_ttc_cents: -102, sale_type: 'prescription' },
    ],
    'discount, credit note, catalogue VAT and the stock’s average cost applied',
  );
  t.same(
    await ds.query(`SELECT supplier_source_id, list_price_ht_cents, discount_pct::text, net_price_ht_cents, free_units FROM purchase_lines WHERE pharmacy_id = $1`, [ph]),
    [{ supplier_source_id: 'OCP', list_price_ht_cents: 500, discount_pct: '20.00', net_price_ht_cents: 400, free_units: 1 }],
  );
  t.same(await ds.query(`SELECT kind FROM suppliers WHERE pharmacy_id = $1`, [ph]), [{ kind: 'wholesaler' }]);
  const roll = await rollupsVsRecomputation(ds, ph);
  t.same(roll.stored, roll.recomputed, 'rollups maintained');

  const bad = await send('b5', 'sale_line', [{ source_id: 'V3', ticket_id: 'T3', sold_at: '2026-03-12T09:00:00.000Z', product_code: '3400930000015', quantity: 1, unit_price_ttc_cents: 600 }]);
  t.same(bad, { rows: 0 });
  const [q] = (await ds.query(`SELECT reason FROM ingest_quarantine WHERE pharmacy_id = $1`, [ph])) as { reason: string }[];
  t.match(q!.reason, /clé de contrôle EAN-13 invalide/, 'a bad record from the agent is quarantined with its reason');
});
