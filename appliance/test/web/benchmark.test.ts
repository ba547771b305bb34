import t from 'tap';
import type { Locator } from 'playwright-core';
import { AnalyticsService } from '../../src/analytics/analytics.service.js';
import { IngestService } from '../../src/ingest/ingest.service.js';
import { AccessService } from '../../src/tenancy/access.service.js';
import { createUser } from '../helpers/auth.js';
import { assertAccessible, assertClean, launchBrowser, openPage, signIn, startBrowserApp } from '../helpers/browser.js';
import { createGroupement, createPharmacy, seedTestCatalogue, TEST_PRODUCTS as P } from '../helpers/pharmacy-factory.js';

const PERIOD = { from: '2026-03-01', to: '2026-03-31' };
const Q = `?du=${PERIOD.from}&au=${PERIOD.to}`;

// Independent French formatting (Node's ICU) of the API's figures, by the kind the KPI name says.
const norm = (s: string | null) => (s ?? '').replace(/[\s\u202f\u00a0]+/g, ' ').trim();
const euros = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 });
const pct = new Intl.NumberFormat('fr-FR', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const int = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 0 });
const shown = (kpi: string, v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : norm(kpi.endsWith('Cents') ? euros.format(Math.round(v / 100)) : kpi.endsWith('Pct') ? pct.format(v / 100) : int.format(v));

interface Line {
  kpi: string;
  q1: number | null;
  median: number | null;
  q3: number | null;
  value?: number | null;
  rank?: number | null;
}

/** The text of each cell of each body row of a table. */
async function cells(table: Locator): Promise<string[][]> {
  const rows = table.locator('tbody tr');
  const out: string[][] = [];
  for (let i = 0; i < (await rows.count()); i++) out.push((await rows.nth(i).locator('th, td').allTextContents()).map(norm));
  return out;
}

// The groupement benchmark with enough consenting pharmacies to show quartiles: the
// group admin sees the API's quartiles and median, and names only for the pharmacy
// that granted the detail permission; a pharmacy's staff see their rank.
t.test('benchmark with enough consenting pharmacies, in the browser', async (t) => {
  const app = await startBrowserApp(t);
  const db = app.app.db;
  await seedTestCatalogue(db);
  const g = await createGroupement(db);
  const ingest = new IngestService(db);
  const analytics = new AnalyticsService(db);
  // One parapharmacy sale each, of different sizes: CA HT = TTC / 1,2.
  const make = async (name: string, ttc: number, consent: boolean) => {
    const id = await createPharmacy(db, { groupementId: g, name });
    await ingest.ingestBatch(id, 'b1', {
      sales: [
        { sourceId: 'S1', ticketId: 'T1', soldAt: '2026-03-10T10:00:00Z', productCode: P.para, quantity: 1, unitPriceTtcCents: ttc, vatRate: 20, unitCostHtCents: Math.round(ttc / 3), saleType: 'parapharmacy' },
      ],
    });
    if (consent) await analytics.setBenchmarkConsent(id, true);
    return id;
  };
  const detailed = await make('Pharmacie Détaillée', 1200, true);
  const aggregated = await make('Pharmacie Agrégée', 2400, true);
  const silent = await make('Pharmacie Discrète', 4800, true);
  const refusing = await make('Pharmacie Réfractaire', 99_999_00, false);
  const groupAdmin = await createUser(app.app, { role: 'group_admin', groupementId: g });
  const staff = await createUser(app.app, { role: 'user', pharmacyId: aggregated, groupementId: g });
  const actor = { actorUserId: null, actorRole: null, ip: null, requestId: null };
  const access = new AccessService(app.app);
  await access.grant(detailed, groupAdmin.id, 'details', actor);
  await access.grant(aggregated, groupAdmin.id, 'aggregates', actor);
  const browser = await launchBrowser(t);

  await t.test('group admin: quartiles and median equal to the API’s; names only with the detail permission', async (t) => {
    const tp = await openPage(t, browser, app.url);
    const { page } = tp;
    await signIn(page, groupAdmin.email, groupAdmin.password);
    await page.goto(`/app/groupement/benchmark${Q}`);
    const table = page.getByTestId('benchmark-table');
    await table.locator('tbody tr').first().waitFor();
    t.equal(await page.getByTestId('benchmark-insufficient').count(), 0, 'not the "too few" state');
    const api = (await page.evaluate(`fetch('/api/groupement/analytics/benchmark?from=${PERIOD.from}&to=${PERIOD.to}').then((r) => r.json())`)) as {
      peers: number;
      insufficient: boolean;
      kpis: Line[];
      pharmacies?: { pharmacyId: string; name: string; values: Record<string, number | null> }[];
    };
    t.equal(api.peers, 3, 'three consenting pharmacies (the refusing one is not counted)');
    t.match(norm(await table.locator('caption').textContent()), /Répartition sur 3 pharmacies participantes/);
    const ca = api.kpis.find((k) => k.kpi === 'caHtCents')!;
    t.same([ca.q1, ca.median, ca.q3], [1500, 2000, 3000], 'API quartiles of CA HT over 10, 20 and 40 €, as computed by hand');
    const rows = await cells(table);
    t.equal(rows.length, api.kpis.length, 'one row per KPI');
    t.same(
      rows.map((r) => r.slice(1)),
      api.kpis.map((k) => [shown(k.kpi, k.q1), shown(k.kpi, k.median), shown(k.kpi, k.q3)]),
      'each row shows the API’s 1st quartile, median and 3rd quartile, in French',
    );
    t.same(rows[api.kpis.indexOf(ca)], ['CA HT', '15 €', '20 €', '30 €'], 'CA HT row as a person reads it');

    const named = page.getByTestId('benchmark-pharmacies');
    await named.waitFor();
    t.same(api.pharmacies?.map((p) => p.pharmacyId), [detailed], 'the API names only the pharmacy with the detail permission');
    const namedRows = await cells(named);
    const d = api.pharmacies![0]!;
    t.same(namedRows, [['Pharmacie Détaillée', ...Object.keys(d.values).map((k) => shown(k, d.values[k]))]], 'and the page shows its figures, and only its');
    const text = norm(await page.locator('main').textContent());
    t.notMatch(text, /Pharmacie Discrète|Pharmacie Réfractaire/, 'no pharmacy that granted nothing is named anywhere');
    t.notMatch(norm(await table.textContent()) + norm(await named.textContent()), /Pharmacie Agrégée/, 'an aggregates-only pharmacy is not named in the figures');
    t.notMatch(JSON.stringify(api), /Discrète|Réfractaire|Agrégée|9 999 999|99999900/, 'nor in what the API sent to the browser');
    await assertAccessible(t, page, 'benchmark-quartiles');
    for (const id of [silent, refusing]) {
      const status = (await page.evaluate(`fetch('/api/pharmacies/${id}/analytics/dashboard?from=${PERIOD.from}&to=${PERIOD.to}').then((r) => r.status)`)) as number;
      t.equal(status, 403, 'a pharmacy without grant stays closed to the group admin');
    }
    await assertClean(t, tp, 'group benchmark');
  });

  await t.test('pharmacy staff: their rank and the quartiles on the dashboard, equal to the API’s', async (t) => {
    const tp = await openPage(t, browser, app.url);
    const { page } = tp;
    await signIn(page, staff.email, staff.password);
    await page.goto(`/app/pharmacies/${aggregated}/tableau-de-bord${Q}`);
    const table = page.getByTestId('benchmark-position');
    await table.locator('tbody tr').first().waitFor();
    const api = (await page.evaluate(`fetch('/api/pharmacies/${aggregated}/analytics/benchmark?from=${PERIOD.from}&to=${PERIOD.to}').then((r) => r.json())`)) as { peers: number; kpis: Line[] };
    const ca = api.kpis.find((k) => k.kpi === 'caHtCents')!;
    t.same([ca.value, ca.rank], [2000, 2], 'the middle pharmacy by CA HT is ranked 2');
    const rows = await cells(table);
    t.same(
      rows.map((r) => r.slice(1)),
      api.kpis.map((k) => [shown(k.kpi, k.value), k.rank ? `${k.rank} / ${api.peers}` : '—', shown(k.kpi, k.q1), shown(k.kpi, k.median), shown(k.kpi, k.q3)]),
      'own value, rank, quartiles and median as the API gives them',
    );
    t.same(rows[api.kpis.indexOf(ca)]?.slice(0, 3), ['CA HT', '20 €', '2 / 3'], 'CA HT: 20 €, ranked 2 of 3');
    t.notMatch(norm(await page.locator('main').textContent()), /Pharmacie Détaillée|Pharmacie Discrète|Pharmacie Réfractaire/, 'no other pharmacy named');
    await assertAccessible(t, page, 'benchmark-pharmacy-rank');
    await assertClean(t, tp, 'pharmacy rank');
  });
});
