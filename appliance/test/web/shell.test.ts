import t from 'tap';
import { assertAccessible, assertClean, launchBrowser, openPage, screenshot, startBrowserApp, tabSequence } from '../helpers/browser.js';

// The UI shell in a real browser against the real app: routing, French pages,
// keyboard access, error display, and a strict CSP that nothing in the UI violates.
t.test('UI shell in headless Chromium', async (t) => {
  const app = await startBrowserApp(t);
  const browser = await launchBrowser(t);
  const tp = await openPage(t, browser, app.url);
  const { page } = tp;

  await t.test('anonymous visitor lands on the French login page', async (t) => {
    const res = await page.goto('/');
    t.equal(res?.status(), 200);
    await page.waitForURL('**/app/connexion');
    t.equal(await page.locator('h1').textContent(), 'Connexion');
    t.equal(await page.getAttribute('html', 'lang'), 'fr');
    t.equal(await page.title(), 'Connexion — Officine');
    t.ok(await page.getByLabel('Adresse e-mail').isVisible(), 'email field has a visible label');
    t.ok(await page.getByLabel('Mot de passe', { exact: true }).isVisible(), 'password field has a visible label');
    await assertAccessible(t, page, 'shell-login');
  });

  await t.test('keyboard: skip link first, then the form in order; skip link moves focus to main', async (t) => {
    await page.goto('/app/connexion');
    await page.locator('h1').waitFor();
    const seq = await tabSequence(page, 5);
    t.match(seq[0], /^a .*Aller au contenu principal/, 'first Tab reaches the skip link');
    t.match(seq[1], /^a .*Officine/, 'then the home link');
    t.match(seq[2], /^input#/, 'then the email field');
    t.match(seq[3], /^input#/, 'then the password field');
    t.match(seq[4], /^button .*Se connecter/, 'then the submit button');
    await page.goto('/app/connexion');
    await page.locator('h1').waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    t.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'contenu', 'skip link focuses <main>');
  });

  await t.test('client-side navigation moves focus to the new heading and sets the title', async (t) => {
    await page.goto('/app/connexion');
    await page.getByRole('link', { name: 'Mot de passe oublié ?' }).click();
    await page.waitForURL('**/app/mot-de-passe');
    t.equal(await page.locator('h1').textContent(), 'Mot de passe oublié');
    t.equal(await page.evaluate('document.activeElement && document.activeElement.tagName'), 'H1', 'focus on the page heading');
    t.equal(await page.title(), 'Mot de passe — Officine');
    await assertAccessible(t, page, 'shell-forgot-password');
  });

  await t.test('a server error is shown in French in an alert', async (t) => {
    await page.goto('/app/activer');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    t.match(await alert.textContent(), /Lien d’activation incomplet/);
    await assertAccessible(t, page, 'shell-activate-no-token');
  });

  await t.test('unknown pages say so, in French', async (t) => {
    await page.goto('/app/nulle-part');
    t.equal(await page.locator('h1').textContent(), 'Page introuvable');
    await screenshot(page, 'shell-not-found');
  });

  await t.test('pages behind a session send an anonymous visitor to login', async (t) => {
    for (const path of ['/app/supervision', '/app/sessions', '/app/pharmacies/00000000-0000-4000-8000-000000000000/tableau-de-bord']) {
      await page.goto(path);
      await page.waitForURL('**/app/connexion?suite=*');
      t.equal(new URL(page.url()).searchParams.get('suite'), path, 'the page asked for is kept for after login');
      t.pass(`${path} → login`);
    }
  });

  await assertClean(t, tp, 'shell pages');
});
