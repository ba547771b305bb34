import t from 'tap';
import { createGroupement, createUser, sessionFor } from '../helpers/auth.js';
import { assertAccessible, assertClean, launchBrowser, openPage, screenshot, startBrowserApp } from '../helpers/browser.js';
import { notePersonalValues } from '../helpers/log-scan.js';
import { startSmtp } from '../helpers/smtp.js';
import { oathtoolTotp as totp } from '../helpers/totp.js';

const SEED = 'ONSWG4TFORZWK5DTMVRXEZLUONSWG4TF';

/** The link an email carries (the token is in the fragment). */
const linkIn = (text: string) => /https?:\/\/\S+#jeton=[A-Za-z0-9_-]+/.exec(text)?.[0];

// The emailed links, end to end in headless Chromium: the reset is asked for in the
// UI, the email is read from a real SMTP listener, its link is opened, the new
// password is set (with the TOTP code the account needs) and used to log in; an
// invited account activates itself from its email and logs in. Used or forged
// tokens are refused in French.
t.test('password reset and email verification links in the browser', async (t) => {
  const smtp = await startSmtp(t);
  const app = await startBrowserApp(t, { ...smtp.env, RATE_LIMIT_PUBLIC_PER_MIN: '1000' });
  const { groupementId, pharmacyIds } = await createGroupement(app.app.db, 1);
  const pharmacyId = pharmacyIds[0]!;
  const titulaire = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId, groupementId, totpSecret: SEED });
  const browser = await launchBrowser(t);

  await t.test('reset asked from the login page, link from the email, new password (+ TOTP), login; the link works once', async (t) => {
    const tp = await openPage(t, browser, app.url);
    const { page } = tp;
    await page.goto('/app/connexion');
    await page.getByRole('link', { name: 'Mot de passe oublié ?' }).click();
    await page.getByLabel('Adresse e-mail du compte').fill(titulaire.email);
    await page.getByRole('button', { name: 'Recevoir un lien de réinitialisation' }).click();
    await page.getByText('Si un compte correspond à cette adresse, un lien de réinitialisation vient d’être envoyé.').waitFor();
    t.pass('the same neutral answer as for any address');

    const mail = await smtp.waitFor((m) => m.to.includes(titulaire.email));
    t.match(mail.subject, /Réinitialisation/, 'reset email received');
    const link = linkIn(mail.text);
    t.ok(link?.startsWith(`${app.url}/app/mot-de-passe#jeton=`), 'the email links to the reset page of this appliance');

    await page.goto(link!);
    await page.getByRole('heading', { name: 'Nouveau mot de passe' }).waitFor();
    const newPassword = 'une phrase de passe toute neuve 2026';
    await page.getByLabel('Nouveau mot de passe', { exact: true }).fill(newPassword);
    await page.getByLabel('Confirmez le mot de passe').fill(newPassword);
    await page.getByRole('button', { name: 'Changer le mot de passe' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    t.match(await alert.textContent(), /Saisissez un code valide de votre application d’authentification/, 'an account with TOTP is asked for its code, in French');
    await assertAccessible(t, page, 'email-reset-totp');
    await page.getByLabel('Code de double authentification').fill(totp(SEED));
    await page.getByRole('button', { name: 'Changer le mot de passe' }).click();
    await page.getByText('Votre mot de passe a été changé. Vous pouvez vous connecter.').waitFor();
    t.notMatch(page.url(), /jeton/, 'the used token is dropped from the address bar');

    await page.getByRole('link', { name: 'Se connecter' }).click();
    await page.getByLabel('Adresse e-mail').fill(titulaire.email);
    await page.getByLabel('Mot de passe', { exact: true }).fill(titulaire.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await alert.waitFor();
    t.match(await alert.textContent(), /incorrect/i, 'the old password no longer works');
    await page.getByLabel('Mot de passe', { exact: true }).fill(newPassword);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('heading', { name: 'Double authentification' }).waitFor();
    // The next 30-second step: the code used for the reset cannot be replayed.
    await page.getByLabel('Code à 6 chiffres').fill(totp(SEED, 1));
    await page.getByRole('button', { name: 'Valider' }).click();
    await page.waitForURL(`**/app/pharmacies/${pharmacyId}/tableau-de-bord*`);
    t.pass('logged in with the new password and a TOTP code');
    await screenshot(page, 'email-reset-logged-in');
    await assertClean(t, tp, 'password reset');

    // The same link again, as someone who kept the email would open it.
    const again = await openPage(t, browser, app.url);
    await again.page.goto(link!);
    await again.page.getByLabel('Nouveau mot de passe', { exact: true }).fill('encore une autre phrase de passe');
    await again.page.getByLabel('Confirmez le mot de passe').fill('encore une autre phrase de passe');
    await again.page.getByRole('button', { name: 'Changer le mot de passe' }).click();
    const refused = again.page.getByRole('alert');
    await refused.waitFor();
    t.match(await refused.textContent(), /Lien de réinitialisation invalide, expiré ou déjà utilisé/, 'the used token is refused, in French');
    t.equal(await again.page.getByLabel('Code de double authentification').count(), 0, 'refused before any TOTP question');
    await screenshot(again.page, 'email-reset-token-reused');
    const login = (await again.page.evaluate(`(async () => {
      const { csrfToken } = await fetch('/api/auth/csrf').then((r) => r.json());
      const r = await fetch('/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken },
        body: JSON.stringify({ email: ${JSON.stringify(titulaire.email)}, password: 'encore une autre phrase de passe' }) });
      return r.status;
    })()`)) as number;
    t.equal(login, 401, 'and the password it tried to set was not set');
    await assertClean(t, again, 'reused reset link');
  });

  await t.test('an invited colleague activates the account from the email, then logs in; bad tokens are refused', async (t) => {
    const admin = await sessionFor(app.app, titulaire.id);
    const email = 'colleague.activation@pharmacie.test';
    notePersonalValues(email, 'Dominique Activation');
    const invite = await app.request(`/api/pharmacies/${pharmacyId}/users`, {
      method: 'POST',
      headers: { ...admin.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ email, displayName: 'Dominique Activation', role: 'user' }),
    });
    t.equal(invite.status, 201, 'invitation sent by the titulaire');
    const mail = await smtp.waitFor((m) => m.to.includes(email));
    t.match(mail.subject, /Activez votre compte/);
    const link = linkIn(mail.text);
    t.ok(link?.startsWith(`${app.url}/app/activer#jeton=`), 'the email links to the activation page');

    const tp = await openPage(t, browser, app.url);
    const { page } = tp;
    const password = 'ma phrase de passe de préparatrice';
    await page.goto('/app/connexion');
    await page.getByLabel('Adresse e-mail').fill(email);
    await page.getByLabel('Mot de passe', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('alert').waitFor();
    t.equal(new URL(page.url()).pathname, '/app/connexion', 'no login before activation');

    await page.goto(link!);
    await page.getByRole('heading', { name: 'Activer mon compte' }).waitFor();
    await page.getByLabel('Choisissez votre mot de passe').fill(password);
    await page.getByRole('button', { name: 'Activer le compte' }).click();
    await page.getByText('Votre adresse est confirmée et votre compte est actif.').waitFor();
    t.notMatch(page.url(), /jeton/, 'the used token is dropped from the address bar');
    await assertAccessible(t, page, 'email-activated');
    await page.getByRole('link', { name: 'Se connecter' }).click();
    await page.getByLabel('Adresse e-mail').fill(email);
    await page.getByLabel('Mot de passe', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.waitForURL(`**/app/pharmacies/${pharmacyId}/tableau-de-bord*`);
    t.pass('the activated account logs in with the password it chose');
    await assertClean(t, tp, 'activation');

    const bad = await openPage(t, browser, app.url);
    for (const [what, url] of [
      ['a forged token', `${app.url}/app/activer#jeton=${'A'.repeat(43)}`],
      ['the used token', link!],
    ] as const) {
      await bad.page.goto('about:blank');
      await bad.page.goto(url);
      await bad.page.getByLabel('Choisissez votre mot de passe').fill('une autre phrase de passe longue');
      await bad.page.getByRole('button', { name: 'Activer le compte' }).click();
      const alert = bad.page.getByRole('alert');
      await alert.waitFor();
      t.match(await alert.textContent(), /Lien d’activation invalide, expiré ou déjà utilisé/, `${what}: refused, in French`);
    }
    await assertAccessible(t, bad.page, 'email-activation-refused');
    await assertClean(t, bad, 'bad activation links');
  });
});
