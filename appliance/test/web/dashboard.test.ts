import { readFileSync } from 'node:fs';
import t from 'tap';
import { CatalogueService } from '../../src/catalogue/catalogue.service.js';
import { SyntheticSeeder } from '../../src/ingest/synthetic.service.js';
import { AccessService } from '../../src/tenancy/access.service.js';
import { createGroupement, createUser } from '../helpers/auth.js';
import { BDPM_DIR } from '../helpers/bdpm.js';
import { assertAccessible, assertClean, launchBrowser, openPage, screenshot, signIn, startBrowserApp } from '../helpers/browser.js';

const PERIOD = { from: '2026-01-01', to: '2026-02-28' };

// Independent French formatting of the API's figures (Node's ICU), to compare with
// what the page shows. Spaces normalised: both sides use CLDR's narrow no-break spaces.
const euros = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 });
const pct = new Intl.NumberFormat('fr-FR', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
const norm = (s: string | null) => (s ?? '').replace(/[\s\u202f\u00a0]+/g, ' ').trim();
const money = (cents: number) => norm(euros.format(Math.round(cents / 100)));
const percent = (p: number) => norm(pct.format(p / 100));

interface Kpis {
  caTtcCents: number;
  marginHtCents: number;
  tauxMarquePct: number;
  panierMoyenCents: number;
  genericSharePct: number;
}

// The pharmacy dashboard on demo data (BDPM catalogue + synthetic months through
// the real ingestion): KPIs equal to the API's, charts, a sortable/filterable
// table, and a CSV export that downloads.
t.test('pharmacy dashboard and exports in the browser', async (t) => {
  const app = await startBrowserApp(t);
  const db = app.app.db;
  await new CatalogueService(db).importBdpm(BDPM_DIR);
  const { groupementId, pharmacyIds } = await createGroupement(db, 2);
  const [pharmacyA, pharmacyB] = pharmacyIds as [string, string];
  await new SyntheticSeeder(db).seed([pharmacyA], 4, { until: PERIOD.to, ticketsPerDay: 20 });
  const staff = await createUser(app.app, { role: 'user', pharmacyId: pharmacyA, groupementId });

  const browser = await launchBrowser(t);
  const tp = await openPage(t, browser, app.url);
  const { page } = tp;
  await signIn(page, staff.email, staff.password);
  const q = `?du=${PERIOD.from}&au=${PERIOD.to}`;

  await t.test('KPI cards show the API’s figures, in French', async (t) => {
    await page.goto(`/app/pharmacies/${pharmacyA}/tableau-de-bord${q}`);
    await page.getByTestId('kpi-ca-value').waitFor();
    const api = (await page.evaluate(`fetch('/api/pharmacies/${pharmacyA}/analytics/dashboard?from=${PERIOD.from}&to=${PERIOD.to}').then((r) => r.json())`)) as {
      current: Kpis;
      previous: Kpis;
      monthly: unknown[];
    };
    t.ok(api.current.caTtcCents > 0, 'demo data has sales in the period');
    const shown = async (id: string) => norm(await page.getByTestId(`${id}-value`).textContent());
    t.equal(await shown('kpi-ca'), money(api.current.caTtcCents), 'CA TTC');
    t.equal(await shown('kpi-marge'), money(api.current.marginHtCents), 'marge');
    t.equal(await shown('kpi-taux-marque'), percent(api.current.tauxMarquePct), 'taux de marque');
    t.equal(await shown('kpi-panier'), money(api.current.panierMoyenCents), 'panier moyen');
    t.equal(await shown('kpi-generiques'), percent(api.current.genericSharePct), 'part générique');
    t.match(await page.getByTestId('kpi-ca').textContent(), /par rapport à la période précédente/, 'compared with the previous period');
    t.match(norm(await page.getByText(/^Du .* comparé au/).textContent()), /Du 01\/01\/2026 au 28\/02\/2026, comparé au/, 'period in French dates');
    t.equal(await page.locator('.chart-canvas canvas').count() > 0, true, 'the revenue/margin chart is drawn');
    t.equal(await page.getByTestId('split').locator('li').count(), 3, 'split reimbursable / non-reimbursable / parapharmacy');
    await page.getByTestId('suppliers').waitFor();
    t.ok((await page.getByTestId('suppliers').locator('li').count()) > 0, 'supplier spend');
    await assertAccessible(t, page, 'dashboard');
  });

  await t.test('a detail table sorts, filters, pages, and exports to CSV', async (t) => {
    await page.goto(`/app/pharmacies/${pharmacyA}/donnees/ventes${q}`);
    const table = page.getByTestId('table-ventes');
    await table.locator('tbody tr').first().waitFor();
    const api = (await page.evaluate(`fetch('/api/pharmacies/${pharmacyA}/analytics/products?from=${PERIOD.from}&to=${PERIOD.to}&by=revenue&order=top&limit=1000').then((r) => r.json())`)) as {
      rows: { label: string; caTtcCents: number }[];
    };
    t.match(norm(await table.locator('caption').textContent()), new RegExp(`${api.rows.length.toLocaleString('fr-FR').replace(/\s/g, ' ')} lignes`), 'row count of the API');
    t.equal(await table.locator('tbody tr').count(), Math.min(25, api.rows.length), 'first page of 25');

    const caHeader = table.getByRole('button', { name: /CA TTC/ });
    await caHeader.click();
    await caHeader.click();
    t.equal(await table.locator('th[aria-sort="descending"]').count(), 1, 'aria-sort on the sorted column');
    const top = [...api.rows].sort((a, b) => b.caTtcCents - a.caTtcCents)[0]!;
    const cents = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR' });
    t.equal(norm(await table.locator('tbody tr').first().locator('td').nth(4).textContent()), norm(cents.format(top.caTtcCents / 100)), 'highest CA TTC first');

    await page.getByRole('button', { name: 'Page suivante' }).click();
    await page.getByText(/^Page 2 sur/).waitFor();
    t.pass('second page');

    const needle = top.label.split(' ')[0]!;
    await table.getByLabel('Filtrer').fill(needle);
    await page.getByText(/^Page 1 sur/).waitFor();
    const labels = await table.locator('tbody tr td:nth-child(2)').allTextContents();
    t.ok(labels.length > 0 && labels.every((l) => l.toLowerCase().includes(needle.toLowerCase())), `filter "${needle}" keeps matching rows only`);
    await assertAccessible(t, page, 'data-sales');

    const [download] = await Promise.all([page.waitForEvent('download'), table.getByRole('link', { name: 'Exporter en CSV' }).click()]);
    t.match(download.suggestedFilename(), /^products-2026-01-01_2026-02-28\.csv$/, 'a CSV file for the period');
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.replace(/^\uFEFF/, '').trim().split(/\r?\n/);
    t.match(lines[0], /Code produit/, 'French headers');
    t.equal(lines.length - 1, api.rows.length, 'one line per API row');
  });

  await t.test('stock, dormant stock and anomalies pages', async (t) => {
    await page.goto(`/app/pharmacies/${pharmacyA}/donnees/stock${q}`);
    await page.getByTestId('stock').waitFor();
    t.match(await page.getByTestId('stock').textContent(), /Rotation/);
    for (const slug of ['stock-dormant', 'anomalies', 'achats', 'factures', 'mois']) {
      await page.goto(`/app/pharmacies/${pharmacyA}/donnees/${slug}${q}`);
      await page.getByTestId(`table-${slug}`).locator('tbody tr').first().waitFor();
      t.pass(`${slug} rows shown`);
    }
    await screenshot(page, 'data-monthly');
  });

  await assertClean(t, tp, 'dashboard and data pages');

  await t.test('group admin: benchmark page, a granting pharmacy’s dashboard, not the others', async (t) => {
    const groupAdmin = await createUser(app.app, { role: 'group_admin', groupementId });
    await new AccessService(app.app).grant(pharmacyA, groupAdmin.id, 'aggregates', { actorUserId: null, actorRole: null, ip: null, requestId: null });
    const gp = await openPage(t, browser, app.url);
    await signIn(gp.page, groupAdmin.email, groupAdmin.password);
    await gp.page.goto(`/app/groupement/benchmark${q}`);
    await gp.page.getByTestId('benchmark-insufficient').waitFor();
    t.match(await gp.page.getByTestId('benchmark-insufficient').textContent(), /Trop peu de pharmacies/, 'no quartiles over too few pharmacies');
    await assertAccessible(t, gp.page, 'benchmark');
    await gp.page.getByRole('link', { name: /^Pharmacie / }).click();
    await gp.page.getByTestId('kpi-ca-value').waitFor();
    t.match(await gp.page.getByText(/grâce à l’accès qu’elle a accordé/).textContent(), /accordé au groupement/, 'the grant is stated');
    await gp.page.goto(`/app/pharmacies/${pharmacyB}/tableau-de-bord${q}`);
    await gp.page.getByRole('heading', { name: 'Pharmacie inaccessible' }).waitFor();
    t.pass('a pharmacy without grant stays closed');
    await assertClean(t, gp, 'group admin');
  });
});
