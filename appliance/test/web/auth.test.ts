import { readFileSync } from 'node:fs';
import t from 'tap';
import { createGroupement, createUser, sessionFor } from '../helpers/auth.js';
import { assertAccessible, assertClean, launchBrowser, openPage, screenshot, startBrowserApp } from '../helpers/browser.js';
import { oathtoolTotp as totp } from '../helpers/totp.js';

const SEED = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

// Login with the TOTP step, TOTP enrolment, sessions and logout, tenant isolation by
// URL and role-gated pages — in headless Chromium against the real app.
t.test('sign-in, TOTP and access control in the browser', async (t) => {
  const app = await startBrowserApp(t, { RATE_LIMIT_PUBLIC_PER_MIN: '1000' });
  const { groupementId, pharmacyIds } = await createGroupement(app.app.db, 2);
  const [pharmacyA, pharmacyB] = pharmacyIds as [string, string];
  const adminA = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: pharmacyA, groupementId, totpSecret: SEED });
  const newAdmin = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: pharmacyB, groupementId });
  const browser = await launchBrowser(t);

  await t.test('pharmacy admin: password, then TOTP code, then the dashboard', async (t) => {
    const tp = await openPage(t, browser, app.url);
    const { page } = tp;
    await page.goto('/app/connexion');
    await page.getByLabel('Adresse e-mail').fill(adminA.email);
    await page.getByLabel('Mot de passe', { exact: true }).fill(adminA.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    const step = page.getByRole('heading', { name: 'Double authentification' });
    await step.waitFor();
    t.equal(await page.evaluate('document.activeElement && document.activeElement.textContent'), 'Double authentification', 'focus moves to the code step');
    await assertAccessible(t, page, 'auth-totp-step');

    await page.getByLabel('Code à 6 chiffres').fill(totp(SEED, -1) === totp(SEED) ? '000000' : totp(SEED, -3));
    await page.getByRole('button', { name: 'Valider' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    t.match(await alert.textContent(), /Code de double authentification incorrect/, 'a wrong code is refused in French');

    await page.getByLabel('Code à 6 chiffres').fill(totp(SEED));
    await page.getByRole('button', { name: 'Valider' }).click();
    await page.waitForURL(`**/app/pharmacies/${pharmacyA}/tableau-de-bord*`);
    t.equal(await page.locator('h1').textContent(), 'Tableau de bord');
    const nav = await page.getByRole('navigation', { name: 'Navigation principale' }).textContent();
    t.match(nav, /Administration/, 'admins see the administration entry');
    t.notMatch(nav, /Supervision|Journal d’audit|Benchmark/, 'no super-admin or group entries');

    await t.test('sessions list shows this session, revokes another; logout ends it', async (t) => {
      const other = await sessionFor(app.app, adminA.id);
      await page.getByRole('link', { name: 'Mes sessions' }).click();
      await page.waitForURL('**/app/sessions');
      const table = page.getByTestId('sessions-table');
      await table.getByText('(cette session)').waitFor();
      t.equal(await table.locator('tbody tr').count(), 2, 'two open sessions listed');
      await assertAccessible(t, page, 'auth-sessions');
      await table.getByRole('button', { name: /^Fermer la session/ }).click();
      await table.locator('tbody tr').nth(1).waitFor({ state: 'detached' });
      t.equal(await table.locator('tbody tr').count(), 1, 'only this session left');
      const res = await app.request('/api/auth/session', { headers: other.headers });
      t.equal(res.status, 401, 'the revoked session is refused by the server');
      await page.getByRole('button', { name: 'Se déconnecter' }).click();
      await page.waitForURL('**/app/connexion');
      await page.goto('/app/sessions');
      await page.waitForURL('**/app/connexion?suite=*');
      t.pass('after logout, pages send back to login');
    });
    await assertClean(t, tp, 'admin login');
  });

  await t.test('pharmacy admin without TOTP must enrol: QR code, first code, recovery codes', async (t) => {
    const tp = await openPage(t, browser, app.url);
    const { page } = tp;
    await page.goto('/app/connexion');
    await page.getByLabel('Adresse e-mail').fill(newAdmin.email);
    await page.getByLabel('Mot de passe', { exact: true }).fill(newAdmin.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL('**/app/double-authentification');
    await page.goto(`/app/pharmacies/${pharmacyB}/administration`);
    await page.waitForURL('**/app/double-authentification');
    t.pass('other pages wait until TOTP is enrolled');
    await page.getByRole('button', { name: 'Générer mon QR code' }).click();
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    t.match(await qr.getAttribute('src'), /^data:image\/png;base64,/, 'QR code as a data: PNG (allowed by img-src)');
    const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
    await assertAccessible(t, page, 'auth-totp-enrol');
    await page.getByLabel('Premier code affiché par l’application').fill(totp(secret));
    await page.getByRole('button', { name: 'Activer' }).click();
    const codes = page.getByTestId('recovery-codes');
    await codes.waitFor();
    t.equal(await codes.locator('li').count(), 10, 'ten recovery codes shown once');
    await screenshot(page, 'auth-recovery-codes');
    await page.getByRole('link', { name: 'Continuer' }).click();
    await page.waitForURL(`**/app/pharmacies/${pharmacyB}/tableau-de-bord*`);
    await assertClean(t, tp, 'TOTP enrolment');
  });

  await t.test('a user of pharmacy A cannot see pharmacy B by editing the URL', async (t) => {
    const staffA = await createUser(app.app, { role: 'user', pharmacyId: pharmacyA, groupementId });
    const tp = await openPage(t, browser, app.url);
    const { page } = tp;
    await page.goto(`/app/pharmacies/${pharmacyA}/donnees/achats`);
    await page.waitForURL('**/app/connexion?suite=*');
    await page.getByLabel('Adresse e-mail').fill(staffA.email);
    await page.getByLabel('Mot de passe', { exact: true }).fill(staffA.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(`**/app/pharmacies/${pharmacyA}/donnees/achats`);
    t.pass('after login, back to the page that was asked for');
    await page.getByRole('link', { name: 'Tableau de bord' }).click();
    await page.waitForURL(`**/app/pharmacies/${pharmacyA}/tableau-de-bord*`);
    const nav = await page.getByRole('navigation', { name: 'Navigation principale' }).textContent();
    t.notMatch(nav, /Administration/, 'staff see no administration entry');

    await page.getByTestId('pharmacy-name').waitFor();
    t.match(await page.getByTestId('pharmacy-name').textContent(), /^Pharmacie /, 'own pharmacy named on the dashboard');
    for (const path of [`/app/pharmacies/${pharmacyB}/tableau-de-bord`, `/app/pharmacies/${pharmacyB}/donnees/ventes`]) {
      await page.goto(path);
      const refused = page.getByRole('alert').first();
      await refused.waitFor();
      t.match(await refused.textContent(), /Vous n’avez pas accès à cette pharmacie/, `${path}: the server refuses pharmacy B, in French`);
      t.equal(await page.locator('h1').textContent(), 'Pharmacie inaccessible');
      t.equal(await page.getByTestId('pharmacy-name').count(), 0, 'nothing of pharmacy B shown');
      t.equal(await page.locator('table, .kpi').count(), 0, 'no table or KPI rendered');
    }
    await screenshot(page, 'auth-foreign-pharmacy');

    for (const [path, what] of [
      [`/app/pharmacies/${pharmacyA}/administration`, 'pharmacy administration'],
      ['/app/supervision', 'super-admin status'],
      ['/app/supervision/journal', 'audit log'],
      ['/app/groupement/benchmark', 'group benchmark'],
    ] as const) {
      await page.goto(path);
      await page.getByTestId('forbidden').waitFor();
      t.pass(`${what} refused to staff`);
    }
    await assertAccessible(t, page, 'auth-forbidden');
    const api = (await page.evaluate(`fetch('/api/pharmacies/${pharmacyB}/users').then((r) => r.status)`)) as number;
    t.equal(api, 403, 'and the API refuses it too, whatever the UI shows');

    await page.goto('/app/sessions');
    await page.getByLabel('Mot de passe actuel').fill(staffA.password);
    await page.getByLabel('Nouveau mot de passe', { exact: true }).fill('une nouvelle phrase de passe 2026');
    await page.getByLabel('Confirmez le nouveau mot de passe').fill('une nouvelle phrase de passe 2026');
    await page.getByRole('button', { name: 'Changer le mot de passe' }).click();
    await page.getByText('Mot de passe changé. Vos autres sessions ont été fermées.').waitFor();
    t.pass('password changed from the sessions page');
    const [mine] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Télécharger mes données (JSON)' }).click()]);
    t.match(mine.suggestedFilename(), /^mes-donnees-officine.*\.json$/, 'my personal data downloads as JSON');
    const exported = readFileSync((await mine.path())!, 'utf8');
    t.match(exported, staffA.email, 'the export holds my account');
    await assertClean(t, tp, 'tenant isolation');
  });
});
