import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BackupRecordRepository } from '../../src/backup/backup-record.repository.js';
import { APP_VERSION } from '../../src/config/version.js';
import { buildBundle } from '../../src/upgrade/bundle-builder.js';
import { buildKeyList, generateReleaseKey } from '../../src/upgrade/release-signing.js';
import { tempDir } from '../helpers/app.js';
import { writeTinyRelease } from '../helpers/bundle.js';
import { createGroupement, createUser } from '../helpers/auth.js';
import { assertAccessible, assertClean, launchBrowser, openPage, signIn, startBrowserApp } from '../helpers/browser.js';
import { oathtoolTotp } from '../helpers/totp.js';

const SUPER_SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const ADMIN_SEED = 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U';

// Admin pages in the browser: the super-admin's audit log (chain verified, then
// tampering detected) and break-glass; the titulaire's users, grants and the
// break-glass notice; each page only for its role.
/** The next patch version after the running one (the bundle must be newer). */
function nextVersion(v: string): string {
  const [a, b, c] = v.split(/[.-]/).map(Number) as [number, number, number];
  return `${a}.${b}.${c + 1}`;
}

t.test('admin pages in the browser', async (t) => {
  // Signed release bundles: one by the pinned key, one by a key the appliance does not know.
  const work = tempDir(t, 'officine-web-upgrade-');
  const pinnedKey = generateReleaseKey();
  const strangerKey = generateReleaseKey();
  const keysFile = join(work, 'release-keys.json');
  writeFileSync(keysFile, JSON.stringify(buildKeyList([pinnedKey.publicKey], 1)), { mode: 0o600 });
  const next = nextVersion(APP_VERSION);
  const makeBundle = async (name: string, key: string) => {
    const out = join(work, `${name}.tar.gz`);
    await buildBundle({ files: writeTinyRelease(join(work, name), next), version: next, minFromVersion: APP_VERSION, expiresAt: new Date(Date.now() + 30 * 86400_000), signingKeyPem: key, out, gzipLevel: 1 });
    return out;
  };
  const goodBundle = await makeBundle('good', pinnedKey.privatePem);
  const strangerBundle = await makeBundle('stranger', strangerKey.privatePem);
  const app = await startBrowserApp(t, { RELEASE_KEYS_FILE: keysFile });
  const db = app.app.db;
  const { groupementId, pharmacyIds } = await createGroupement(db, 1);
  const pharmacyA = pharmacyIds[0]!;
  const operator = await createUser(app.app, { role: 'super_admin', totpSecret: SUPER_SEED });
  const titulaire = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: pharmacyA, groupementId, totpSecret: ADMIN_SEED });
  const groupAdmin = await createUser(app.app, { role: 'group_admin', groupementId });
  // Not offered to the titulaire: another groupement's admin, and a disabled one of this groupement.
  const other = await createGroupement(db, 1);
  await createUser(app.app, { role: 'group_admin', groupementId: other.groupementId });
  await createUser(app.app, { role: 'group_admin', groupementId, status: 'disabled' });
  // An agent that synced once: what it read, sent and withheld (its last summary).
  const summary = {
    profile: 'winpharma',
    startedAt: new Date(Date.now() - 3600_000).toISOString(),
    finishedAt: new Date(Date.now() - 3500_000).toISOString(),
    tables: [{ entity: 'sales', source: 'VENTES', columns: ['date', 'cip13', 'qte'], read: 1200, sent: 1195, withheld: { nir: 3, email: 2 } }],
    parked: [{ batchId: 'a'.repeat(32), entity: 'sale_line', rows: 100, code: 'batch_rejected', reason: 'contrainte d’intégrité violée (SQLSTATE 23514, table sales_lines)', parkedAt: new Date(Date.now() - 3550_000).toISOString() }],
  };
  await db.query(
    `INSERT INTO agents (pharmacy_id, id, public_key, hostname, agent_version, last_seen_at, last_summary, last_summary_at)
     VALUES ($1, gen_random_uuid(), $2, 'caisse-1.pharmacie.lan', '0.1.0', now(), $3, now())`,
    [pharmacyA, Buffer.alloc(32, 7), JSON.stringify(summary)],
  );
  const browser = await launchBrowser(t);
  const REASON = 'Incident 4711 : rapprochement des factures demandé par le titulaire';

  await t.test('super-admin: supervision menu, audit log with chain check, break-glass', async (t) => {
    const tp = await openPage(t, browser, app.url);
    const { page } = tp;
    await signIn(page, operator.email, operator.password, { totp: oathtoolTotp(SUPER_SEED) });
    await page.goto('/');
    await page.waitForURL('**/app/supervision');
    const status = page.getByTestId('status');
    await status.waitFor({ timeout: 30_000 });
    t.match(await status.textContent(), /PostgreSQLen marche/, 'status: PostgreSQL up');
    t.match(await status.textContent(), /Lecture seuledésactivée/, 'status: read-only off');
    await assertAccessible(t, page, 'admin-status');
    const nav = await page.getByRole('navigation', { name: 'Navigation principale' }).textContent();
    t.match(nav, /Journal d’audit.*Accès d’urgence.*Mises à jour/, 'supervision entries');
    t.notMatch(nav, /Tableau de bord|Administration|Benchmark/, 'no pharmacy or group entries');

    await page.goto(`/app/pharmacies/${pharmacyA}/tableau-de-bord`);
    await page.getByRole('heading', { name: 'Pharmacie inaccessible' }).waitFor();
    t.pass('no pharmacy data for an operator without break-glass');

    await page.goto('/app/supervision/journal');
    const table = page.getByTestId('audit-table');
    await table.getByText('auth.login.success').first().waitFor();
    t.ok((await table.locator('tbody tr').count()) >= 1, 'entries listed');
    await page.getByRole('button', { name: 'Vérifier la chaîne' }).click();
    await page.getByTestId('audit-chain-ok').waitFor();
    t.match(await page.getByTestId('audit-chain-ok').textContent(), /Chaîne intacte : \d+ entrées vérifiées/);
    await assertAccessible(t, page, 'admin-audit');

    // Someone with database superuser rights edits an entry behind the trigger's back.
    await db.transaction(async (m) => {
      await m.query(`ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change`);
      await m.query(`UPDATE audit_log SET details = '{"edited": true}' WHERE id = (SELECT min(id) FROM audit_log)`);
      await m.query(`ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change`);
    });
    await page.getByRole('button', { name: 'Vérifier la chaîne' }).click();
    const broken = page.getByTestId('audit-chain-broken');
    await broken.waitFor();
    t.match(await broken.textContent(), /ALTÉRÉ.*modifiée après écriture/, 'tampering reported, in an alert');

    const finished = new Date(Date.now() - 3 * 3600_000);
    await new BackupRecordRepository(db).insert({
      id: '20261121T030000Z-test',
      startedAt: new Date(finished.getTime() - 60_000),
      finishedAt: finished,
      status: 'verified',
      sizeBytes: 5 * 1024 * 1024,
      sha256: 'a'.repeat(64),
      targets: [{ target: 'nas', verified: true }],
      error: null,
    });
    await page.goto('/app/supervision/sauvegardes');
    const backups = page.getByTestId('backups-table');
    await backups.getByText('vérifiée').first().waitFor();
    t.match(await backups.textContent(), /5 Mo.*nas ✓ vérifiée/, 'the journal shows the verified backup and its target');
    t.match(await page.getByTestId('backup-facts').textContent(), /Dernière sauvegarde vérifiée/, 'last verified backup');
    await assertAccessible(t, page, 'admin-backups');

    await page.goto('/app/supervision/acces-urgence');
    await page.getByLabel('Identifiant de la pharmacie').fill(pharmacyA);
    await page.getByLabel(/^Motif/).fill(REASON);
    await page.getByLabel('Durée').selectOption('15');
    await page.getByRole('button', { name: 'Ouvrir l’accès d’urgence' }).click();
    const list = page.getByTestId('break-glass-list');
    await list.getByText('En cours').waitFor();
    await assertAccessible(t, page, 'admin-break-glass');

    await page.goto('/app/supervision/mises-a-jour');
    await page.getByLabel('Archive de mise à jour').setInputFiles(strangerBundle);
    await page.getByRole('button', { name: 'Téléverser et vérifier' }).click();
    const refusal = page.getByRole('alert');
    await refusal.waitFor();
    t.match(await refusal.textContent(), /clé qui n’est pas épinglée/, 'a bundle signed by an unknown key is refused, in French');
    await page.getByLabel('Archive de mise à jour').setInputFiles(goodBundle);
    await page.getByRole('button', { name: 'Téléverser et vérifier' }).click();
    const staged = page.getByTestId('upgrade-staged');
    await staged.waitFor();
    t.match(await staged.textContent(), new RegExp(`Version ${next.replace(/\./g, '\\.')} prête.*vérifiés`), 'the signed bundle is verified');
    await assertAccessible(t, page, 'admin-upgrades');
    await staged.getByRole('button', { name: `Appliquer la version ${next}` }).click();
    await page.getByText(/Demande enregistrée.*appliance upgrade apply/).first().waitFor();
    const history = page.getByTestId('upgrades-history');
    await history.getByText('Application demandée').waitFor();
    t.match(await history.textContent(), /Application demandée.*Archive vérifiée.*Archive refusée/, 'history from the audit log, newest first');

    await page.goto('/app/supervision/acces-urgence');
    await list.getByRole('link', { name: 'Consulter la pharmacie' }).click();
    await page.getByText(/Accès d’urgence en cours/).waitFor();
    t.match(await page.getByTestId('pharmacy-name').textContent(), /^Pharmacie /, 'the pharmacy opens under break-glass, with the notice');
    await assertClean(t, tp, 'super-admin pages');
  });

  await t.test('titulaire: users (invite, role, disable), grants (grant, revoke), break-glass notice', async (t) => {
    const tp = await openPage(t, browser, app.url);
    const { page } = tp;
    page.on('dialog', (d) => void d.accept());
    await signIn(page, titulaire.email, titulaire.password, { totp: oathtoolTotp(ADMIN_SEED) });
    await page.goto(`/app/pharmacies/${pharmacyA}/administration`);
    const users = page.getByTestId('users-table');
    await users.getByText(titulaire.email).waitFor();

    await page.getByLabel('Nom affiché').fill('Camille Préparatrice');
    await page.getByLabel('Adresse e-mail', { exact: true }).fill('camille@pharmacie.test');
    await page.getByLabel('Rôle').selectOption('user');
    await page.getByRole('button', { name: 'Envoyer l’invitation' }).click();
    const invited = users.locator('tr', { hasText: 'camille@pharmacie.test' });
    await invited.getByText('En attente d’activation').waitFor();
    t.pass('invited colleague listed, pending activation');
    await invited.getByRole('button', { name: 'Donner le rôle administrateur à Camille Préparatrice' }).click();
    await invited.getByRole('button', { name: 'Retirer le rôle administrateur à Camille Préparatrice' }).waitFor();
    t.match(await invited.textContent(), /Titulaire|administrat/i, 'the role column shows the new role');
    await invited.getByRole('button', { name: 'Retirer le rôle administrateur à Camille Préparatrice' }).click();
    await invited.getByRole('button', { name: 'Donner le rôle administrateur à Camille Préparatrice' }).waitFor();
    t.pass('role given and taken back from the page');
    await invited.getByRole('button', { name: 'Désactiver Camille Préparatrice' }).click();
    await invited.getByText('Désactivé').waitFor();
    t.pass('colleague disabled');

    const granteeSelect = page.getByLabel('Administrateur du groupement', { exact: true });
    await granteeSelect.locator('option', { hasText: groupAdmin.displayName }).waitFor({ state: 'attached' });
    t.same(
      (await granteeSelect.locator('option').allTextContents()).slice(1),
      [groupAdmin.displayName],
      'the list offers the groupement’s active admins, and only them',
    );
    await granteeSelect.selectOption({ label: groupAdmin.displayName });
    await page.getByLabel('Portée').selectOption('aggregates');
    await page.getByRole('button', { name: 'Accorder' }).click();
    const grants = page.getByTestId('grants-table');
    await grants.getByText('Chiffres agrégés seulement').waitFor();
    t.pass('grant listed');

    const agents = page.getByTestId('agents');
    await agents.getByText('caisse-1.pharmacie.lan').waitFor();
    const summary = (await agents.textContent())?.replace(/[\u202f\u00a0]/g, ' ');
    t.match(summary, /sales.*1 200.*1 195.*3 \(numéro de sécurité sociale détecté\), 2 \(adresse e-mail détectée\)/, 'transparency: read, sent, withheld by reason');
    t.match((await page.getByTestId('agent-parked').textContent())?.replace(/[\u202f\u00a0]/g, ' '), /1 lot\(s\) refusé\(s\) par l’appliance.*sale_line — 100 ligne\(s\).*SQLSTATE 23514, table sales_lines/, 'batches the agent parked are shown with their reason');
    await page.getByRole('button', { name: 'Créer un code d’enrôlement' }).click();
    await page.getByTestId('enrolment-code').waitFor();
    t.ok(((await page.getByTestId('enrolment-code').textContent()) ?? '').length >= 8, 'a one-time enrolment code is shown');
    await agents.getByRole('button', { name: 'Révoquer cet agent' }).click();
    await agents.getByText('État : Révoqué').waitFor();
    t.pass('agent revoked');

    const consent = page.getByTestId('consent-state');
    await consent.getByText('non').waitFor();
    await consent.getByRole('button', { name: 'Participer au comparatif' }).click();
    await consent.getByText('oui').waitFor();
    t.pass('benchmark consent given from the page');

    const bg = page.getByTestId('break-glass');
    await bg.getByText(REASON).waitFor();
    t.match(await bg.textContent(), /En cours/, 'the operator’s break-glass is shown to the titulaire');
    await assertAccessible(t, page, 'admin-pharmacy');

    await grants.getByRole('button', { name: /^Retirer l’accès/ }).click();
    await grants.getByText('Aucune ligne.').waitFor();
    t.pass('grant revoked');

    // The super-admin's supervision is not the titulaire's: refused by the UI and by the API.
    t.notMatch(await page.getByRole('navigation', { name: 'Navigation principale' }).textContent(), /Supervision|Journal d’audit|Mises à jour/, 'no supervision entry offered');
    for (const path of ['/app/supervision', '/app/supervision/sauvegardes', '/app/supervision/lecture-seule', '/app/supervision/journal', '/app/supervision/acces-urgence', '/app/supervision/mises-a-jour']) {
      await page.goto(path);
      const refused = page.getByTestId('forbidden');
      await refused.waitFor();
      t.match(await refused.textContent(), /Votre rôle ne donne pas accès à cette page/, `${path}: refused to a pharmacy admin, in French`);
      t.equal(await page.getByTestId('status').count(), 0, `${path}: no supervision content rendered`);
    }
    const api = (await page.evaluate(`(async () => {
      const { csrfToken } = await fetch('/api/auth/csrf').then((r) => r.json());
      const post = (path, body) => fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken }, body: JSON.stringify(body) }).then((r) => r.status);
      return {
        status: await fetch('/api/admin/status').then((r) => r.status),
        audit: await fetch('/api/admin/audit').then((r) => r.status),
        backups: await fetch('/api/admin/backups').then((r) => r.status),
        readOnlyState: await fetch('/api/admin/read-only').then((r) => r.status),
        readOnly: await post('/api/admin/read-only', { enabled: true, reason: 'Essai par un titulaire, doit être refusé' }),
        breakGlass: await post('/api/admin/break-glass', { pharmacyId: ${JSON.stringify(pharmacyA)}, reason: 'Essai par un titulaire, doit être refusé', durationMinutes: 15 }),
      };
    })()`)) as Record<string, number>;
    t.same(api, { status: 403, audit: 403, backups: 403, readOnlyState: 403, readOnly: 403, breakGlass: 403 }, 'the supervision API refuses a pharmacy admin, reads and writes');
    const ro = (await db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'ops.read_only.enabled'`)) as { n: number }[];
    t.equal(ro[0]!.n, 0, 'and read-only was not switched on');
    await assertClean(t, tp, 'pharmacy administration');
  });

  await t.test('group admin: no pharmacy administration, no supervision', async (t) => {
    const tp = await openPage(t, browser, app.url);
    const { page } = tp;
    await signIn(page, groupAdmin.email, groupAdmin.password);
    await page.goto('/');
    await page.waitForURL('**/app/groupement/benchmark');
    for (const path of [`/app/pharmacies/${pharmacyA}/administration`, '/app/supervision', '/app/supervision/journal']) {
      await page.goto(path);
      await page.getByTestId('forbidden').waitFor();
      t.pass(`${path} refused`);
    }
    const status = (await page.evaluate(`fetch('/api/admin/audit').then((r) => r.status)`)) as number;
    t.equal(status, 403, 'the audit API refuses a group admin too');
    await assertClean(t, tp, 'group admin refusals');
  });
});
