import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { createGroupement, createUser, sessionFor } from '../helpers/auth.js';
import { startSmtp } from '../helpers/smtp.js';

const TOTP = 'JBSWY3DPEHPK3PXP';

t.test('group admins see only pharmacies that granted them, granted and revoked by the pharmacy admin', async (t) => {
  const app = await startTestApp(t);
  const { groupementId, pharmacyIds } = await createGroupement(app.app.db, 2);
  const [a, b] = pharmacyIds as [string, string];
  const admin = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: a, totpSecret: TOTP });
  const ga = await createUser(app.app, { role: 'group_admin', groupementId });
  const outsider = await createUser(app.app, { role: 'group_admin', groupementId: (await createGroupement(app.app.db, 1)).groupementId });
  const adm = (await sessionFor(app.app, admin.id)).headers;
  const gah = (await sessionFor(app.app, ga.id)).headers;
  const post = (path: string, body: unknown) => app.request(path, { method: 'POST', headers: { ...adm, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  t.equal((await app.request(`/api/pharmacies/${a}`, { headers: gah })).status, 403, 'no grant yet');
  t.same(((await (await app.request('/api/group/pharmacies', { headers: gah })).json()) as { pharmacies: unknown[] }).pharmacies, [], 'nothing listed');
  t.equal((await post(`/api/pharmacies/${a}/grants`, { granteeUserId: outsider.id, permission: 'aggregates' })).status, 422, 'cannot grant a group admin of another groupement');
  const g = await post(`/api/pharmacies/${a}/grants`, { granteeUserId: ga.id, permission: 'aggregates' });
  t.equal(g.status, 201);
  const { id: grantId } = (await g.json()) as { id: string };
  t.equal((await app.request(`/api/pharmacies/${a}`, { headers: gah })).status, 200, 'aggregates grant opens aggregated views');
  t.equal((await app.request(`/api/pharmacies/${b}`, { headers: gah })).status, 403, 'not the other pharmacy');
  t.match(await (await app.request('/api/group/pharmacies', { headers: gah })).json(), { pharmacies: [{ id: a, permissions: ['aggregates'] }] });
  t.equal((await post(`/api/pharmacies/${b}/grants`, { granteeUserId: ga.id, permission: 'details' })).status, 403, 'an admin cannot grant on another pharmacy');
  const del = await app.request(`/api/pharmacies/${a}/grants/${grantId}`, { method: 'DELETE', headers: adm });
  t.equal(del.status, 204, 'revoked');
  t.equal((await app.request(`/api/pharmacies/${a}`, { headers: gah })).status, 403, 'revocation effective at once');
  const audit = (await app.app.db.query(`SELECT action FROM audit_log WHERE pharmacy_id = $1 AND action LIKE 'grant.%' ORDER BY id`, [a])) as { action: string }[];
  t.same(audit.map((r) => r.action), ['grant.created', 'grant.revoked'], 'permission changes audited');
});

t.test('break-glass: reason + ≤ 4 h, visible to the pharmacy admins, every request audited, expires by itself', async (t) => {
  const smtp = await startSmtp(t);
  const app = await startTestApp(t, smtp.env);
  const { pharmacyIds } = await createGroupement(app.app.db, 2);
  const [a, b] = pharmacyIds as [string, string];
  const admin = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: a, totpSecret: TOTP });
  const sa = await createUser(app.app, { role: 'super_admin', totpSecret: TOTP });
  const sah = { ...(await sessionFor(app.app, sa.id)).headers, 'content-type': 'application/json' };
  const open = (body: unknown) => app.request('/api/admin/break-glass', { method: 'POST', headers: sah, body: JSON.stringify(body) });

  t.equal((await app.request(`/api/pharmacies/${a}`, { headers: sah })).status, 403, 'no access without break-glass');
  t.equal((await open({ pharmacyId: a, reason: 'trop court', durationMinutes: 30 })).status, 422, 'a real reason is required');
  t.equal((await open({ pharmacyId: a, reason: 'Ticket 4411 : écarts de marge signalés par le titulaire', durationMinutes: 241 })).status, 422, 'more than 4 h refused');
  const o = await open({ pharmacyId: a, reason: 'Ticket 4411 : écarts de marge signalés par le titulaire', durationMinutes: 60 });
  t.equal(o.status, 201);
  const { breakGlass } = (await o.json()) as { breakGlass: { id: string; active: boolean } };
  t.ok(breakGlass.active);
  const mail = await smtp.waitFor((m) => m.to.includes(admin.email));
  t.match(mail.subject, /Accès d’urgence ouvert/);
  t.match(mail.text, /Ticket 4411/);

  t.equal((await app.request(`/api/pharmacies/${a}`, { headers: sah })).status, 200, 'break-glass opens reads of that pharmacy');
  t.equal((await app.request(`/api/pharmacies/${a}`, { headers: sah })).status, 200);
  t.equal((await app.request(`/api/pharmacies/${b}`, { headers: sah })).status, 403, 'and of no other');
  t.equal((await app.request(`/api/pharmacies/${a}/users`, { headers: sah })).status, 403, 'never admin rights on the pharmacy');
  const reqs = (await app.app.db.query(`SELECT level, target_id FROM audit_log WHERE action = 'break_glass.request' AND pharmacy_id = $1`, [a])) as { level: string; target_id: string }[];
  t.equal(reqs.length, 2, 'each request under break-glass audited');
  t.ok(reqs.every((r) => r.target_id === breakGlass.id));

  const adm = (await sessionFor(app.app, admin.id)).headers;
  const seen = (await (await app.request(`/api/pharmacies/${a}/break-glass`, { headers: adm })).json()) as { breakGlass: { id: string; reason: string; active: boolean }[] };
  t.match(seen.breakGlass, [{ id: breakGlass.id, active: true, reason: /Ticket 4411/ }], 'visible to the pharmacy admin');
  const trail = (await (await app.request(`/api/pharmacies/${a}/audit`, { headers: adm })).json()) as { entries: { action: string }[] };
  t.ok(trail.entries.some((e) => e.action === 'break_glass.opened'), 'in the pharmacy’s audit trail');

  await app.app.db.query(`UPDATE break_glass_sessions SET opened_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE id = $1`, [breakGlass.id]);
  t.equal((await app.request(`/api/pharmacies/${a}`, { headers: sah })).status, 403, 'expired by itself');

  const o2 = await open({ pharmacyId: a, reason: 'Ticket 4412 : vérification après correction', durationMinutes: 10 });
  const id2 = ((await o2.json()) as { breakGlass: { id: string } }).breakGlass.id;
  t.equal((await app.request(`/api/admin/break-glass/${id2}`, { method: 'DELETE', headers: sah })).status, 204, 'closed early');
  t.equal((await app.request(`/api/pharmacies/${a}`, { headers: sah })).status, 403, 'closed means closed');
});
