import t from 'tap';
import { AnalyticsService } from '../../src/analytics/analytics.service.js';
import { startTestApp } from '../helpers/app.js';
import { createUser, sessionFor } from '../helpers/auth.js';
import { TEST_PRODUCTS as P } from '../helpers/pharmacy-factory.js';
import { seedFixturePharmacy } from '../helpers/fixture-pharmacy.js';

// March 2026, computed by hand (HT = round(TTC × 100 / (100 + TVA)), cost = qty × unit cost):
//   L1 generic 2 × 6,00 + 2,04 fees = 14,04 TTC → 13,75 HT, cost 8,00
//   L2 princeps 1 × 10,00 + 1,02    = 11,02 TTC → 10,79 HT, cost 7,50
//   L3 otc 1 × 5,50 (10 %)          =  5,50 TTC →  5,00 HT, cost 3,00
//   L4 para 3 × 12,00 (20 %)        = 36,00 TTC → 30,00 HT, cost 15,00
//   L5 para −1 (credit note)        = −12,00 TTC → −10,00 HT, cost −5,00
//   L6 generic 1 × 6,50 + 1,02      =  7,52 TTC →  7,37 HT, cost 4,00
//   L7 otc 1 × 2,50                 =  2,50 TTC →  2,27 HT, cost 3,00
//   CA TTC 64,58 ; CA HT 59,18 ; cost 35,50 ; margin 23,68 ; fees 4,08
//   taux de marque 23,68 / 59,18 = 40,01 % ; taux de marge 23,68 / 35,50 = 66,70 % ; coefficient 64,58 / 35,50 = 1,819
//   tickets T1, T2, T4 = 3 (T3 is a credit note) ; panier (64,58 + 12,00) / 3 = 25,5267 → 25,53
//   generic share: generic units 3 / répertoire units 4 (3 generic + 1 princeps) = 75 %
//   previous period (29 Jan – 28 Feb): L8 = 11,02 TTC ; last year (March 2025): L9 = 11,00 TTC
//   stock 31/03: 7×4 + 3×3 + 20×5 + 4×15 + 2×7,50 = 212,00 ; 01/03: 10×4 + 5×3 = 55,00
//   rotation = average stock (55 + 212) / 2 = 133,50 / cost 35,50 × 31 days = 116,6 days
//   dormant on 31/03 (no sale since 30/09/2025): "other" 4 × 15,00 = 60,00 (last sale 15/08/2025)
const PERIOD = { from: '2026-03-01', to: '2026-03-31' };

t.test('hand-computed pharmacy equals the service to the cent', async (t) => {
  const app = await startTestApp(t, { RATE_LIMIT_READS_PER_MIN: '100000' });
  const ds = app.app.db;
  const ph = await seedFixturePharmacy(ds);
  const svc = new AnalyticsService(ds);

  const k = await svc.kpis(ph, PERIOD);
  t.same(k.previousPeriod, { from: '2026-01-29', to: '2026-02-28' });
  t.same(k.lastYearPeriod, { from: '2025-03-01', to: '2025-03-31' });
  t.match(k.current, {
    caTtcCents: 6458, caHtCents: 5918, costHtCents: 3550, marginHtCents: 2368, feesTtcCents: 408,
    tauxMarquePct: 40.01, tauxMargePct: 66.7, coefficient: 1.819, tickets: 3, panierMoyenCents: 2553, unitsSold: 9, genericSharePct: 75,
  });
  t.same(k.current.split, {
    reimbursable: { caTtcCents: 3258, caHtCents: 3191, marginHtCents: 1241, sharePct: 53.92 },
    non_reimbursable: { caTtcCents: 800, caHtCents: 727, marginHtCents: 127, sharePct: 12.28 },
    parapharmacy: { caTtcCents: 2400, caHtCents: 2000, marginHtCents: 1000, sharePct: 33.8 },
  });
  t.match(k.previous, { caTtcCents: 1102, caHtCents: 1079, marginHtCents: 329, tickets: 1, panierMoyenCents: 1102, genericSharePct: 0 });
  t.match(k.lastYear, { caTtcCents: 1100, caHtCents: 1000, marginHtCents: 400, tickets: 1, genericSharePct: null });
  t.same(k.evolution.caTtcCents, { vsPrevious: 486.03, vsLastYear: 487.09 });

  const top = await svc.products(ph, PERIOD, { by: 'margin', order: 'top', limit: 10 });
  t.same(top.map((p) => [p.productCode, p.marginHtCents, p.units]), [[P.para, 1000, 2], [P.generic, 912, 3], [P.princeps, 329, 1], [P.otc, 127, 2]]);
  t.equal(top[0]!.label, 'Crème hydratante 50 ml', 'LGO label for a parapharmacy product');
  const flop = await svc.products(ph, PERIOD, { by: 'margin', order: 'flop', limit: 1 });
  t.same(flop.map((p) => p.productCode), [P.otc]);

  const sup = await svc.purchasesBySupplier(ph, PERIOD);
  t.same(sup, [
    // P3: 24 units at 5,00 list = 120,00 ; net 20 × 4,00 = 80,00 → 33,33 % (parapharmacy: no cap)
    { supplierId: 'LAB', name: 'Laboratoire Dermo', kind: 'lab', lines: 1, units: 20, freeUnits: 4, listHtCents: 12000, netHtCents: 8000,
      effectiveDiscountPct: 33.33, overCapLines: 0, overCapExcessHtCents: 0 },
    // P1 generic: 12 × 5,00 = 60,00 list, 35,00 net → 41,67 % > 30 % cap: excess 25,00 − 18,00 = 7,00
    // P2 princeps: 35,00 list, 34,50 net → 1,43 % ≤ 2,5 %. P4 only ordered: excluded.
    { supplierId: 'OCP', name: 'OCP Répartition', kind: 'wholesaler', lines: 2, units: 15, freeUnits: 2, listHtCents: 9500, netHtCents: 6950,
      effectiveDiscountPct: 26.84, overCapLines: 1, overCapExcessHtCents: 700 },
  ]);

  const stock = await svc.stock(ph, PERIOD);
  t.match(stock, { snapshotOn: '2026-03-31', valueHtCents: 21200, products: 5, units: 36, averageValueHtCents: 13350, cogsHtCents: 3550, rotationDays: 116.6,
    dormant: { months: 6, count: 1, valueHtCents: 6000 } });
  const dormant = await svc.dormant(ph, PERIOD);
  t.same(dormant, [{ productCode: P.other, label: 'AUTRE remboursable', quantity: 4, wacHtCents: 1500, valueHtCents: 6000, lastSale: '2025-08-15' }]);

  const anomalies = await svc.anomalies(ph, PERIOD);
  t.same(anomalies.map((a) => [a.sourceId, a.kind]), [['L6', 'off_bdpm_price'], ['L7', 'below_cost']]);
  t.match(anomalies[0], { unitPriceTtcCents: 650, bdpmPriceTtcCents: 600 });
  t.match(anomalies[1], { unitPriceHtCents: 227, unitCostHtCents: 300 });

  // The same figures through the HTTP API, as the pharmacy's staff.
  const staff = await createUser(app.app, { role: 'user', pharmacyId: ph });
  const { headers } = await sessionFor(app.app, staff.id);
  const get = (path: string) => app.request(path, { headers });
  const dash = await get(`/api/pharmacies/${ph}/analytics/dashboard?from=2026-03-01&to=2026-03-31`);
  t.equal(dash.status, 200);
  const body = (await dash.json()) as { current: Record<string, unknown>; monthly: unknown[]; stock: unknown };
  t.match(body.current, { marginHtCents: 2368, tauxMarquePct: 40.01, panierMoyenCents: 2553, genericSharePct: 75 });
  t.same(body.monthly, [{ month: '2026-03', caTtcCents: 6458, caHtCents: 5918, marginHtCents: 2368, tauxMarquePct: 40.01, tickets: 3 }]);
  t.same(body.stock, { snapshotOn: '2026-03-31', valueHtCents: 21200, products: 5 });
  const stockApi = (await (await get(`/api/pharmacies/${ph}/analytics/stock?from=2026-03-01&to=2026-03-31`)).json()) as Record<string, unknown>;
  t.match(stockApi, { rotationDays: 116.6, dormant: { valueHtCents: 6000 } });

  const csv = await get(`/api/pharmacies/${ph}/analytics/products?from=2026-03-01&to=2026-03-31&format=csv`);
  t.equal(csv.status, 200);
  t.match(csv.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/);
  t.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="products-2026-03-01_2026-03-31.csv"/);
  const bytes = new Uint8Array(await csv.arrayBuffer());
  t.same([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
  const text = new TextDecoder().decode(bytes.slice(3));
  const rows = text.split('\r\n');
  t.equal(rows[0], 'Code produit;Libellé;Famille;Unités;CA TTC (€);CA HT (€);Coût d’achat HT (€);Marge HT (€);Taux de marque (%)');
  t.equal(rows[1], `${P.para};Crème hydratante 50 ml;parapharmacy;2;24,00;20,00;10,00;10,00;50,00`, 'French decimals, ; separator');
  const json = (await (await get(`/api/pharmacies/${ph}/analytics/purchases?from=2026-03-01&to=2026-03-31&format=json`)).json()) as { rows: { overCapExcessHtCents: number }[]; columns: unknown[] };
  t.equal(json.rows[1]!.overCapExcessHtCents, 700);
  t.ok(json.columns.length > 5, 'JSON export describes its columns');
  const kcsv = await (await get(`/api/pharmacies/${ph}/analytics/kpis?from=2026-03-01&to=2026-03-31&format=csv`)).text();
  t.match(kcsv, /Taux de marque;%;40,01;30,49;40,00/);

  const [exported] = (await ds.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'analytics.exported' AND pharmacy_id = $1`, [ph])) as { n: number }[];
  t.equal(exported!.n, 2, 'each CSV export is audited');

  // Tenant scoping: a pharmacy's staff never reads another pharmacy's analytics.
  const otherPh = await seedFixturePharmacy(ds);
  const foreign = await app.request(`/api/pharmacies/${otherPh}/analytics/kpis`, { headers });
  t.equal(foreign.status, 403);
  const bad = await get(`/api/pharmacies/${ph}/analytics/kpis?from=2026-03-31&to=2026-03-01`);
  t.equal(bad.status, 422);
  const anon = await app.request(`/api/pharmacies/${ph}/analytics/dashboard`);
  t.equal(anon.status, 401);
});
