import t from 'tap';
import { parisDay, toIngestBatch } from '../../src/agent-channel/agent-ingest.adapter.js';
import { lineSchemas } from '../../src/ingest/ingest.schemas.js';

const CODE = '3400930000001'.slice(0, 12);
// A valid EAN-13 (check digit computed) so the ingest schemas accept it.
const ean = (() => {
  const d = CODE.split('').map(Number);
  const sum = d.reduce((a, x, i) => a + x * (i % 2 === 0 ? 1 : 3), 0);
  return CODE + String((10 - (sum % 10)) % 10);
})();

t.test('canonical records map onto lines the ingestion accepts', async (t) => {
  const sale = toIngestBatch('sale_line', [
    { source_id: '1', ticket_id: 'T1', sold_at: '2025-01-02T07:00:00.000Z', product_code: ean, quantity: 1, unit_price_ttc_cents: 1000, discount_cents: 0, vat_rate: 2.1, dispensing_fee_cents: 102, is_credit_note: false, sale_type: 'prescription', unit_cost_ht_cents: 700 },
    { source_id: '2', ticket_id: 'T1', sold_at: '2025-01-02T07:00:00.000Z', product_code: ean, quantity: 1, unit_price_ttc_cents: 1000, discount_cents: 100, vat_rate: 2.1, dispensing_fee_cents: null, is_credit_note: true, sale_type: 'otc', unit_cost_ht_cents: 700 },
  ]).sales!;
  t.same(lineSchemas.sales.parse(sale[0]), { sourceId: '1', ticketId: 'T1', soldAt: '2025-01-02T07:00:00.000Z', productCode: ean, quantity: 1, unitPriceTtcCents: 1000, vatRate: 2.1, unitCostHtCents: 700, feeTtcCents: 102, saleType: 'prescription' });
  const credit = lineSchemas.sales.parse(sale[1]);
  t.equal(credit.quantity, -1, 'a credit note becomes a negative quantity');
  t.equal(credit.unitPriceTtcCents, 900, 'the line discount lowers the unit price');
  t.equal(credit.feeTtcCents, 0, 'no fee means zero');

  const [purchase] = toIngestBatch('purchase_line', [
    { source_id: 'P1', order_id: 'CMD-1', supplier_id: '1', status: null, ordered_on: null, received_at: '2025-03-30T22:30:00.000Z', product_code: ean, quantity: 5, free_units: null, unit_cost_ht_cents: 680, list_price_ht_cents: 800, discount_cents: 0, vat_rate: 2.1, comment: 'x' },
  ]).purchases!;
  t.same(lineSchemas.purchases.parse(purchase), {
    sourceId: 'P1', supplierSourceId: '1', productCode: ean, orderRef: 'CMD-1', status: 'received', orderedOn: '2025-03-31', receivedOn: '2025-03-31',
    quantity: 5, freeUnits: 0, listPriceHtCents: 800, discountPct: 15, netPriceHtCents: 680,
  }, 'status and days derived from the Paris reception day; discount % from list and net prices');

  const [invoice] = toIngestBatch('supplier_invoice', [{ source_id: 'F1', supplier_id: '2', invoice_number: 'FAC-1', invoice_date: '2025-01-02', total_ht_cents: 10_000, total_ttc_cents: 10_210, comment: null }]).invoices!;
  const header = lineSchemas.invoices.parse(invoice);
  t.match(header, { totalHtCents: 10_000, totalVatCents: 210, totalTtcCents: 10_210 });
  t.notOk('lines' in header, 'a header carries no lines: its stored lines are left alone');

  const [line, derived] = toIngestBatch('supplier_invoice_line', [
    { source_id: 'L1', invoice_id: 'F1', line_no: 1, product_code: ean, quantity: 4, free_units: 1, unit_price_ht_cents: 250, vat_rate: 2.1, amount_ht_cents: 1000 },
    { source_id: 'L2', invoice_id: 'F1', line_no: 2, product_code: ean, quantity: 3, free_units: null, unit_price_ht_cents: 250, vat_rate: 20, amount_ht_cents: null },
  ]).invoiceLines!;
  t.same(lineSchemas.invoiceLines.parse(line), { invoiceSourceId: 'F1', lineNo: 1, productCode: ean, quantity: 4, freeUnits: 1, unitPriceHtCents: 250, vatRate: 2.1, amountHtCents: 1000 });
  t.same(lineSchemas.invoiceLines.parse(derived), { invoiceSourceId: 'F1', lineNo: 2, productCode: ean, quantity: 3, freeUnits: 0, unitPriceHtCents: 250, vatRate: 20, amountHtCents: 750 }, 'a missing amount is quantity × unit price');

  const [stock] = toIngestBatch('stock', [{ source_id: 'S1', product_code: ean, quantity: 3, unit_cost_ht_cents: 500, counted_at: '2025-06-30T22:15:00.000Z', snapshot_on: null }]).stock!;
  t.same(lineSchemas.stock.parse(stock), { snapshotOn: '2025-07-01', productCode: ean, quantity: 3, wacHtCents: 500 });

  const [grossiste, autre] = toIngestBatch('supplier', [{ source_id: '1', name: 'OCP', kind: 'grossiste' }, { source_id: '2', name: 'X', kind: null }]).suppliers!;
  t.same([lineSchemas.suppliers.parse(grossiste).kind, lineSchemas.suppliers.parse(autre).kind], ['wholesaler', 'other']);
  t.same(lineSchemas.products.parse(toIngestBatch('product', [{ source_id: '1', code: ean, label: 'A', vat_rate: 20, list_price_cents: 100, manufacturer: null, family: 'parapharmacy' }]).products![0]), { code: ean, label: 'A', family: 'parapharmacy', vatRate: 20, lab: null });
});

t.test('a missing or unexpected value is left for the ingestion to quarantine, never guessed', async (t) => {
  const [p] = toIngestBatch('product', [{ source_id: '1', code: ean, label: 'A', vat_rate: 20, list_price_cents: null, manufacturer: null, family: null }]).products!;
  t.notOk(Object.prototype.hasOwnProperty.call(p, 'family'), 'no family key at all');
  t.notOk(lineSchemas.products.safeParse(p).success, 'so the line schema refuses it');
  const [s] = toIngestBatch('sale_line', [{ source_id: '1', ticket_id: 'T', sold_at: '2025-01-02T07:00:00.000Z', product_code: ean, quantity: 1, unit_price_ttc_cents: 1, vat_rate: 20, sale_type: 'patient_card', unit_cost_ht_cents: null }]).sales!;
  t.notOk(lineSchemas.sales.safeParse(s).success, 'an unknown sale type and a missing cost are refused');
  t.throws(() => toIngestBatch('patient', []), /no ingest section/);
  t.equal(parisDay('2025-01-01T23:30:00.000Z'), '2025-01-02');
  t.equal(parisDay(null), undefined);
});
