import t from 'tap';
import { AnalyticsService } from '../../src/analytics/analytics.service.js';
import { BenchmarkService, quantile } from '../../src/analytics/benchmark.service.js';
import { IngestService } from '../../src/ingest/ingest.service.js';
import { createTestDataSource } from '../helpers/db.js';
import { createGroupement, createPharmacy, seedTestCatalogue, TEST_PRODUCTS as P } from '../helpers/pharmacy-factory.js';

const PERIOD = { from: '2026-03-01', to: '2026-03-31' };

t.test('quantiles interpolate like percentile_cont', async (t) => {
  t.equal(quantile([1000, 2000, 4000], 0.25), 1500);
  t.equal(quantile([1000, 2000, 4000], 0.5), 2000);
  t.equal(quantile([1000, 2000, 4000], 0.75), 3000);
  t.equal(quantile([], 0.5), null);
});

t.test('groupement benchmark: consenting pharmacies only, ranks, identities only with detail permission', async (t) => {
  const { ds } = await createTestDataSource(t);
  await seedTestCatalogue(ds);
  const g = await createGroupement(ds);
  const ingest = new IngestService(ds);
  const analytics = new AnalyticsService(ds);
  const bench = new BenchmarkService(ds);
  // One parapharmacy sale each: CA HT = TTC / 1,2.
  const make = async (name: string, ttc: number, consent: boolean) => {
    const id = await createPharmacy(ds, { groupementId: g, name });
    await ingest.ingestBatch(id, 'b1', {
      sales: [{ sourceId: 'S1', ticketId: 'T1', soldAt: '2026-03-10T10:00:00Z', productCode: P.para, quantity: 1, unitPriceTtcCents: ttc,
        vatRate: 20, unitCostHtCents: 0, saleType: 'parapharmacy' }],
    });
    if (consent) await analytics.setBenchmarkConsent(id, true);
    return id;
  };
  const a = await make('Pharmacie A', 1200, true);
  const b = await make('Pharmacie B', 2400, true);
  const outsider = await make('Pharmacie D (refuse)', 999_999, false);
  const otherGroup = await createPharmacy(ds, { name: 'Autre groupement' });
  await analytics.setBenchmarkConsent(otherGroup, true);

  const few = await bench.forPharmacy(a, PERIOD);
  t.same({ peers: few.peers, insufficient: few.insufficient, kpis: few.kpis }, { peers: 2, insufficient: true, kpis: [] }, 'two peers: too few to show anything');

  const c = await make('Pharmacie C', 4800, true);
  const r = await bench.forPharmacy(a, PERIOD);
  t.equal(r.peers, 3, 'the refusing pharmacy and the other groupement are not counted');
  const ca = r.kpis.find((k) => k.kpi === 'caHtCents')!;
  t.same(ca, { kpi: 'caHtCents', q1: 1500, median: 2000, q3: 3000, value: 1000, rank: 3 });
  t.equal((await bench.forPharmacy(c, PERIOD)).kpis.find((k) => k.kpi === 'caHtCents')!.rank, 1);
  t.notOk('pharmacies' in r, 'a pharmacy never sees the others’ identities');
  t.notMatch(JSON.stringify(r), /Pharmacie B|Pharmacie C|999999/, 'nor their names or values');
  const notIn = await bench.forPharmacy(outsider, PERIOD);
  t.same({ granted: notIn.granted, kpis: notIn.kpis, peers: notIn.peers }, { granted: false, kpis: [], peers: 0 }, 'a non-participant sees nothing of the others');

  const agg = await bench.forGroupement(g, PERIOD, { revealPharmacyIds: new Set() });
  t.equal(agg.peers, 3);
  t.notOk('pharmacies' in agg, 'no identity without detail permission');
  t.notOk(agg.kpis.some((k) => 'rank' in k), 'no rank in the groupement view');
  const detail = await bench.forGroupement(g, PERIOD, { revealPharmacyIds: new Set([b, outsider]) });
  t.same(detail.pharmacies?.map((p) => [p.name, p.values.caHtCents]), [['Pharmacie B', 2000]], 'only the pharmacies with a detail grant, and only consenting ones');

  await analytics.setBenchmarkConsent(c, false);
  t.equal((await bench.forGroupement(g, PERIOD, { revealPharmacyIds: new Set() })).insufficient, true, 'withdrawn consent takes effect at once');
});
