import t from 'tap';
import { AnalyticsService } from '../../src/analytics/analytics.service.js';
import { CatalogueService } from '../../src/catalogue/catalogue.service.js';
import { SyntheticSeeder } from '../../src/ingest/synthetic.service.js';
import { loadSyntheticCatalogue, SyntheticPharmacy } from '../../src/ingest/synthetic.generator.js';
import { BDPM_DIR } from '../helpers/bdpm.js';
import { createTestDataSource } from '../helpers/db.js';
import { createPharmacy } from '../helpers/pharmacy-factory.js';
import { rollupsVsRecomputation } from '../helpers/rollup-check.js';

t.test('synthetic generator on the BDPM catalogue: realistic, deterministic, idempotent', async (t) => {
  const { ds } = await createTestDataSource(t);
  await new CatalogueService(ds).importBdpm(BDPM_DIR);
  const cat = await loadSyntheticCatalogue(ds);
  t.ok(cat.groups.length > 300, `${cat.groups.length} generic groups with reference and generics`);

  const a = new SyntheticPharmacy(cat, 7, { ticketsPerDay: 40 }).month('2026-01')!;
  const b = new SyntheticPharmacy(cat, 7, { ticketsPerDay: 40 }).month('2026-01')!;
  t.equal(JSON.stringify(a), JSON.stringify(b), 'same seed, same month: identical batch');
  const aug = new SyntheticPharmacy(cat, 7, { ticketsPerDay: 40 }).month('2025-08')!;
  t.ok(a.batch.sales!.length > aug.batch.sales!.length, 'seasonality: January busier than August');
  const partial = new SyntheticPharmacy(cat, 7, { ticketsPerDay: 40, until: '2026-01-10' });
  t.equal(partial.batchId('2026-01'), 'synth-7-2026-01-to10', 'a month in progress has its own batch id');
  t.equal(partial.batchId('2026-02'), null);

  // Fixed FINESS numbers: the generator seeds each pharmacy's history from its FINESS,
  // so the figures asserted below are the same on every run (a random FINESS made
  // "free units from the lab" fail for some seeds).
  const p1 = await createPharmacy(ds, { finess: '750000017' });
  const p2 = await createPharmacy(ds, { finess: '690000028' });
  const seeder = new SyntheticSeeder(ds);
  const r = await seeder.seed([p1, p2], 2, { until: '2026-02-28', ticketsPerDay: 40 });
  t.equal(r.batches, 4);
  t.ok(r.salesLines > 4000, `${r.salesLines} sales lines`);
  const [q] = (await ds.query(`SELECT count(*)::int AS n FROM ingest_quarantine WHERE pharmacy_id = ANY($1::uuid[])`, [[p1, p2]])) as { n: number }[];
  t.equal(q!.n, 0, 'every generated line passes validation');

  const svc = new AnalyticsService(ds);
  const period = { from: '2026-01-01', to: '2026-02-28' };
  const k = await svc.kpis(p1, period);
  t.ok(k.current.genericSharePct! > 60 && k.current.genericSharePct! < 95, `generic share ${k.current.genericSharePct} %`);
  t.ok(k.current.tauxMarquePct! > 15 && k.current.tauxMarquePct! < 45, `taux de marque ${k.current.tauxMarquePct} %`);
  t.ok(k.current.split.parapharmacy.caHtCents > 0 && k.current.split.non_reimbursable.caHtCents > 0, 'all three families sold');
  t.ok(k.current.feesTtcCents > 0, 'dispensing fees');
  const sup = await svc.purchasesBySupplier(p1, period);
  t.ok(sup.some((s) => s.kind === 'lab' && s.freeUnits > 0), 'free units from the lab');
  t.ok(sup.some((s) => s.overCapLines > 0), 'some discounts above the regulatory cap');
  const stock = await svc.stock(p1, period);
  t.ok(stock.dormant.count > 0 && stock.dormant.valueHtCents > 0, `dormant stock ${stock.dormant.count} items`);
  t.ok(stock.rotationDays! > 0, `rotation ${stock.rotationDays} days`);
  const anomalies = await svc.anomalies(p1, period);
  t.ok(anomalies.some((x) => x.kind.includes('below_cost')), 'below-cost promotions');
  t.ok(anomalies.some((x) => x.kind.includes('off_bdpm_price')), 'reimbursable drugs sold off their BDPM price');
  const [inv] = (await ds.query(`SELECT count(*)::int AS n, bool_and(file_sha256 ~ '^[0-9a-f]{64}$') AS ok FROM supplier_invoices WHERE pharmacy_id = $1`, [p1])) as { n: number; ok: boolean }[];
  t.ok(inv!.n >= 4 && inv!.ok, 'invoices with the sha256 of their source');
  const roll = await rollupsVsRecomputation(ds, p1);
  t.same(roll.stored, roll.recomputed, 'rollups equal recomputation on generated data');

  const again = await seeder.seed([p1, p2], 2, { until: '2026-02-28', ticketsPerDay: 40 });
  t.same(again, { batches: 0, skipped: 4, salesLines: 0 }, 'seeding again skips every month');
});
