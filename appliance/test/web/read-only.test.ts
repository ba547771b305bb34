import t from 'tap';
import { createGroupement, createUser, sessionFor } from '../helpers/auth.js';
import { assertAccessible, assertClean, launchBrowser, openPage, signIn, startBrowserApp } from '../helpers/browser.js';
import { oathtoolTotp } from '../helpers/totp.js';

const SUPER_SEED = 'KRUGS4ZANFZSAYLOEB2GK43UEBZWKZLE';

// The read-only kill switch seen from the browser: the operator turns it on with a
// reason, every page shows the banner, a pharmacist's write is refused in French,
// and the banner goes when the switch is turned off.
t.test('read-only banner in the browser', async (t) => {
  const app = await startBrowserApp(t);
  const { groupementId, pharmacyIds } = await createGroupement(app.app.db, 1);
  const operator = await createUser(app.app, { role: 'super_admin', totpSecret: SUPER_SEED });
  const staff = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0]!, groupementId });
  await sessionFor(app.app, staff.id); // a second session of the pharmacist, to try to close
  const browser = await launchBrowser(t);

  const op = await openPage(t, browser, app.url);
  await signIn(op.page, operator.email, operator.password, { totp: oathtoolTotp(SUPER_SEED) });
  const ph = await openPage(t, browser, app.url);
  await signIn(ph.page, staff.email, staff.password);

  await ph.page.goto('/app/sessions');
  await ph.page.getByTestId('sessions-table').getByText('(cette session)').waitFor();
  t.equal(await ph.page.getByTestId('read-only-banner').count(), 0, 'no banner while writable');

  await op.page.goto('/app/supervision/lecture-seule');
  await op.page.getByTestId('read-only-state').getByText('désactivé').waitFor();
  await op.page.getByLabel(/^Motif/).fill('Restauration en cours après incident disque');
  await op.page.getByRole('button', { name: 'Activer la lecture seule' }).click();
  await op.page.getByTestId('read-only-banner').waitFor();
  // The banner and the page's own state reload independently: wait for the state text.
  await op.page.getByTestId('read-only-state').filter({ hasText: /activé.*Restauration en cours/ }).waitFor();
  t.pass('state and reason shown to the operator');
  t.pass('the operator sees the banner at once');
  await assertAccessible(t, op.page, 'read-only-on');

  await ph.page.reload();
  const banner = ph.page.getByTestId('read-only-banner');
  await banner.waitFor();
  t.match(await banner.textContent(), /lecture seule.*consultation reste possible/, 'the pharmacist sees the banner, in French');
  await ph.page.getByTestId('sessions-table').getByRole('button', { name: /^Fermer la session/ }).click();
  const refusal = ph.page.getByRole('alert');
  await refusal.waitFor();
  t.match(await refusal.textContent(), /lecture seule/, 'a write is refused with the server’s French message');
  await assertAccessible(t, ph.page, 'read-only-refusal');

  await op.page.getByRole('button', { name: 'Désactiver la lecture seule' }).click();
  await op.page.getByTestId('read-only-banner').waitFor({ state: 'detached' });
  t.pass('banner gone when the switch is off');

  await assertClean(t, op, 'operator');
  await assertClean(t, ph, 'pharmacist');
});
