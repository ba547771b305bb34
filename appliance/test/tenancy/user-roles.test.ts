import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { createGroupement, createUser, sessionFor } from '../helpers/auth.js';
import { UserAdminService } from '../../src/auth/user-admin.service.js';

const SEED = 'KRUGS4ZANFZSAYLOEB2GK43UEBZWKZLE';

// A titulaire changes a colleague's role: the change is audited, the colleague's
// sessions end, a pharmacy never loses its last admin, and nobody changes their own
// role or reaches another pharmacy's accounts.
t.test('pharmacy admin changes a colleague’s role', async (t) => {
  const app = await startTestApp(t);
  const { pharmacyIds } = await createGroupement(app.app.db, 2);
  const [pA, pB] = pharmacyIds as [string, string];
  const titulaire = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: pA, totpSecret: SEED });
  const colleague = await createUser(app.app, { role: 'user', pharmacyId: pA });
  const elsewhere = await createUser(app.app, { role: 'user', pharmacyId: pB });
  const admin = await sessionFor(app.app, titulaire.id);
  const colleagueSession = await sessionFor(app.app, colleague.id);
  const setRole = (pharmacyId: string, userId: string, body: unknown, headers = admin.headers) =>
    app.request(`/api/pharmacies/${pharmacyId}/users/${userId}/role`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const roleOf = async (id: string) => ((await app.app.db.query(`SELECT role FROM users WHERE id = $1`, [id])) as { role: string }[])[0]!.role;
  const code = async (r: Response) => ((await r.json()) as { error: { code: string } }).error.code;

  t.equal((await app.request('/api/auth/session', { headers: colleagueSession.headers })).status, 200, 'colleague signed in');
  const promote = await setRole(pA, colleague.id, { role: 'pharmacy_admin' });
  t.equal(promote.status, 200);
  t.same(await promote.json(), { changed: true });
  t.equal(await roleOf(colleague.id), 'pharmacy_admin', 'promoted');
  t.equal((await app.request('/api/auth/session', { headers: colleagueSession.headers })).status, 401, 'the colleague’s sessions ended: the new role applies at once');
  const audit = (await app.app.db.query(`SELECT actor_user_id, level, details FROM audit_log WHERE action = 'user.role_changed'`)) as { actor_user_id: string; level: string; details: { from: string; to: string } }[];
  t.match(audit, [{ actor_user_id: titulaire.id, level: 'warning', details: { from: 'user', to: 'pharmacy_admin' } }], 'audited with actor, from and to');
  t.same(await (await setRole(pA, colleague.id, { role: 'pharmacy_admin' })).json(), { changed: false }, 'same role again: nothing changes');

  // Back to user: allowed, the titulaire is still an active admin.
  t.equal((await setRole(pA, colleague.id, { role: 'user' })).status, 200);
  t.equal(await roleOf(colleague.id), 'user');

  const self = await setRole(pA, titulaire.id, { role: 'user' });
  t.equal(self.status, 422);
  t.equal(await code(self), 'cannot_change_own_role', 'nobody changes their own role');

  // The last active admin cannot be demoted. Through HTTP the acting admin is always
  // another active admin, so this guards the other callers (console, break-glass).
  const last = new UserAdminService(app.app).changeRole(titulaire.id, 'user', { actorRole: 'console' });
  await t.rejects(last, { code: 'last_pharmacy_admin' }, 'a pharmacy keeps at least one active admin');
  t.equal(await roleOf(titulaire.id), 'pharmacy_admin');

  const bad = await setRole(pA, colleague.id, { role: 'super_admin' });
  t.equal(bad.status, 422, 'only pharmacy roles can be given');
  t.equal(await code(bad), 'validation_failed');
  const foreignTenant = await setRole(pB, elsewhere.id, { role: 'pharmacy_admin' });
  t.equal(foreignTenant.status, 403, 'another pharmacy’s route is refused');
  const foreignUser = await setRole(pA, elsewhere.id, { role: 'pharmacy_admin' });
  t.equal(foreignUser.status, 404, 'another pharmacy’s account through my pharmacy: not found');
  t.equal(await roleOf(elsewhere.id), 'user', 'untouched');
  const asUser = await setRole(pA, colleague.id, { role: 'pharmacy_admin' }, (await sessionFor(app.app, colleague.id)).headers);
  t.equal(asUser.status, 403, 'a plain user may not change roles');
});
