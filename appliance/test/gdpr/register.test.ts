import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { createGroupement, createUser, sessionFor } from '../helpers/auth.js';

t.test('processing register and sub-processors: data, shown to admins, exportable', async (t) => {
  const app = await startTestApp(t);
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const ops = await createUser(app.app, { role: 'super_admin', totpSecret: 'JBSWY3DPEHPK3PXP' });
  const titulaire = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: pharmacyIds[0]!, totpSecret: 'JBSWY3DPEHPK3PXP' });
  const staff = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0]! });

  const res = await app.request('/api/admin/gdpr/register', { headers: (await sessionFor(app.app, ops.id)).headers });
  t.equal(res.status, 200);
  const reg = (await res.json()) as { activities: { id: string; legalBasis: string; retention: string }[]; subProcessors: { id: string; dataLocation: string }[] };
  t.same(reg.activities.map((a) => a.id), ['accounts', 'audit', 'commercial_analytics', 'emails', 'invoice_archive', 'logs']);
  t.match(reg.activities.find((a) => a.id === 'invoice_archive')!.legalBasis, /L123-22.*L102 B/);
  t.match(reg.activities.find((a) => a.id === 'accounts')!.retention, /24 mois d’inactivité/);
  t.same(reg.subProcessors.map((s) => s.id), ['groupement_nas', 'scaleway', 'smtp_relay']);
  t.equal(reg.subProcessors.find((s) => s.id === 'scaleway')!.dataLocation, 'France (fr-par)');

  // Kept as data: a new sub-processor shows up without a release.
  await app.app.db.query(`INSERT INTO sub_processors (id, name, service, data_location, data_categories, safeguards) VALUES ('support_vendor', 'Éditeur', 'Support niveau 3', 'France', 'Aucune donnée personnelle', 'Accès d’urgence justifié et audité')`);
  const ph = await app.request(`/api/pharmacies/${pharmacyIds[0]}/gdpr/register?format=csv`, { headers: (await sessionFor(app.app, titulaire.id)).headers });
  t.equal(ph.status, 200);
  t.match(ph.headers.get('content-type'), /text\/csv/);
  t.match(ph.headers.get('content-disposition'), /registre-des-traitements\.csv/);
  const csv = await ph.text(); // fetch drops the BOM
  t.match(csv, /^Traitement,Finalité,Base légale,/);
  t.match(csv, /\r\nSous-traitant,Service,Localisation des données,Données,Garanties\r\n/);
  t.match(csv, /Éditeur,Support niveau 3,France/);
  t.equal((await app.request('/api/admin/gdpr/register', { headers: (await sessionFor(app.app, staff.id)).headers })).status, 403, 'staff cannot read the operator view');
});
