import { randomUUID } from 'node:crypto';
import t from 'tap';
import { POLICY, rule, type Permission } from '../../src/auth/policy.js';
import { ROLES, type Role } from '../../src/auth/user.entity.js';
import { buildRouter } from '../../src/http/app.js';
import { declaredRoutes, undeclaredRoutes, type RouteSpec } from '../../src/http/route.js';
import { startTestApp } from '../helpers/app.js';
import { anonymousHeaders, createGroupement, createUser, sessionFor } from '../helpers/auth.js';

/**
 * The route × role × tenant matrix, generated from the router itself: every declared
 * route is called by an anonymous caller and by each of the four roles, on their own
 * pharmacy and on a foreign one. Only the cells the policy allows may get past
 * authorisation (any status but 401/403, and never a 5xx); every other cell must be refused.
 * The expected cells come from the policy table; the hand-written cells below do not.
 */
type Cell = 'own' | 'foreign' | 'aggregates_only';

function expected(spec: RouteSpec, role: Role | 'anonymous', cell: Cell): 'allow' | 401 | 403 {
  const r = rule(spec.permission);
  if (r.scope === 'public') return 'allow';
  if (role === 'anonymous') return 401;
  if (!r.roles.includes(role)) return 403;
  if (r.scope === 'global') return 'allow';
  switch (role) {
    case 'user':
    case 'pharmacy_admin':
      return cell === 'own' ? 'allow' : 403;
    case 'group_admin': // fixture: `own` granted details, `aggregates_only` granted aggregates, `foreign` nothing
      if (cell === 'own') return r.groupGrants?.includes('details') ? 'allow' : 403;
      if (cell === 'aggregates_only') return r.groupGrants?.includes('aggregates') ? 'allow' : 403;
      return 403;
    case 'super_admin': // fixture: active break-glass on `own` only
      return cell === 'own' && r.breakGlass ? 'allow' : 403;
  }
}

t.test('every route on the router declares a permission', async (t) => {
  const app = await startTestApp(t);
  const router = buildRouter(app.app);
  t.same(undeclaredRoutes(router), [], 'no route registered outside defineRoute');
  t.ok(declaredRoutes(router).length >= 20, 'the identity routes are all declared');
  for (const r of declaredRoutes(router)) t.ok(POLICY[r.spec.permission], `${r.method} ${r.path}: permission ${r.spec.permission} exists in the policy`);

  // The check itself can fail: a raw route added without defineRoute is reported.
  const withRaw = buildRouter(app.app, [(router) => void router.post('/api/raw/undeclared', (ctx) => void (ctx.body = 'x'))]);
  t.same(undeclaredRoutes(withRaw), [{ methods: ['POST'], path: '/api/raw/undeclared' }], 'an undeclared route fails the check');
});

t.test('route × role × tenant matrix', async (t) => {
  const app = await startTestApp(t, { RATE_LIMIT_PUBLIC_PER_MIN: '100000', RATE_LIMIT_WRITES_PER_MIN: '100000', RATE_LIMIT_READS_PER_MIN: '100000' });
  const db = app.app.db;
  const { groupementId, pharmacyIds } = await createGroupement(db, 3);
  const [own, foreign, aggOnly] = pharmacyIds as [string, string, string];
  const totpSecret = 'JBSWY3DPEHPK3PXP';
  const users: Record<Role, string> = {
    user: (await createUser(app.app, { role: 'user', pharmacyId: own })).id,
    pharmacy_admin: (await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: own, totpSecret })).id,
    group_admin: (await createUser(app.app, { role: 'group_admin', groupementId })).id,
    super_admin: (await createUser(app.app, { role: 'super_admin', totpSecret })).id,
  };
  await db.query(`INSERT INTO group_admin_grants (pharmacy_id, grantee_user_id, permission) VALUES ($1, $3, 'details'), ($2, $3, 'aggregates')`, [own, aggOnly, users.group_admin]);
  await db.query(`INSERT INTO break_glass_sessions (pharmacy_id, user_id, reason, opened_at, expires_at) VALUES ($1, $2, 'Matrix test: investigating a support ticket', now(), now() + interval '1 hour')`, [own, users.super_admin]);

  const routes = declaredRoutes(buildRouter(app.app));
  const cellsOf = (spec: RouteSpec, role: Role | 'anonymous'): Cell[] =>
    spec.tenant ? (role === 'group_admin' ? ['own', 'foreign', 'aggregates_only'] : ['own', 'foreign']) : ['own'];
  let checked = 0;
  const permissionsSeen = new Set<Permission>();
  for (const { method, path, spec } of routes) {
    permissionsSeen.add(spec.permission);
    for (const role of ['anonymous', ...ROLES] as const) {
      for (const cell of cellsOf(spec, role)) {
        const pharmacyId = cell === 'own' ? own : cell === 'foreign' ? foreign : aggOnly;
        const url = path.replace(/:pharmacyId/g, pharmacyId).replace(/:[A-Za-z]+/g, () => randomUUID());
        const headers = role === 'anonymous' ? anonymousHeaders(app.app) : (await sessionFor(app.app, users[role])).headers;
        const init: RequestInit = { method, headers: { ...headers, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) } };
        if (method !== 'GET') init.body = '{}';
        const res = await app.request(url, init);
        const want = expected(spec, role, cell);
        const label = `${method} ${path} as ${role} on ${spec.tenant ? cell : 'n/a'}: ${res.status}`;
        // Public routes may answer 401 on their own terms (refresh without a refresh cookie): only 403 would be a refusal.
        const refusals = rule(spec.permission).scope === 'public' ? [403] : [401, 403];
        // Allowed: past authorisation, and no server error. Random sub-resource ids and an
        // empty body may well give 404 or 422; a 5xx would be a bug the matrix must show.
        if (want === 'allow') t.ok(!refusals.includes(res.status) && res.status < 500, `${label} (allowed)`);
        else t.equal(res.status, want, `${label} (refused)`);
        await res.body?.cancel();
        checked++;
      }
    }
  }
  t.ok(checked > routes.length * 5, `${checked} cells checked`);
  t.ok(permissionsSeen.has('pharmacy.admin') && permissionsSeen.has('pharmacy.aggregates') && permissionsSeen.has('ops.admin'), 'matrix covers tenant and global permissions');
});

t.test('hand-written cells that must never open, whatever the policy table says', async (t) => {
  const app = await startTestApp(t);
  const { groupementId, pharmacyIds } = await createGroupement(app.app.db, 2);
  const [a, b] = pharmacyIds as [string, string];
  const staff = await createUser(app.app, { role: 'user', pharmacyId: a });
  const ga = await createUser(app.app, { role: 'group_admin', groupementId });
  const sa = await createUser(app.app, { role: 'super_admin', totpSecret: 'JBSWY3DPEHPK3PXP' });
  await app.app.db.query(`INSERT INTO group_admin_grants (pharmacy_id, grantee_user_id, permission) VALUES ($1, $2, 'details')`, [a, ga.id]);
  const get = async (who: string, path: string) => (await app.request(path, { headers: (await sessionFor(app.app, who)).headers })).status;
  t.equal(await get(staff.id, `/api/pharmacies/${a}`), 200, 'staff reads own pharmacy');
  t.equal(await get(staff.id, `/api/pharmacies/${b}`), 403, 'staff never reads a foreign pharmacy');
  t.equal(await get(staff.id, `/api/pharmacies/${a}/users`), 403, 'staff is not a pharmacy admin');
  t.equal(await get(ga.id, `/api/pharmacies/${a}`), 200, 'group admin reads a granting pharmacy');
  t.equal(await get(ga.id, `/api/pharmacies/${a}/users`), 403, 'a grant never gives admin rights');
  t.equal(await get(ga.id, `/api/pharmacies/${b}`), 403, 'group admin without grant is refused');
  t.equal(await get(sa.id, `/api/pharmacies/${a}`), 403, 'super-admin without break-glass is refused');
  t.equal(await get(staff.id, `/api/pharmacies/${randomUUID()}`), 404, 'unknown pharmacy: 404');
  t.equal(await get(staff.id, `/api/pharmacies/not-a-uuid`), 404, 'malformed pharmacy id: 404, not a server error');

  // A foreign sub-resource under one's own pharmacy URL: the admin of A names a user of B.
  const adminA = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: a, totpSecret: 'JBSWY3DPEHPK3PXP' });
  const staffB = await createUser(app.app, { role: 'user', pharmacyId: b });
  const sessionB = await sessionFor(app.app, staffB.id);
  const asAdminA = (await sessionFor(app.app, adminA.id)).headers;
  const post = async (path: string, body: unknown, method = 'POST') =>
    (await app.request(path, { method, headers: { ...asAdminA, 'content-type': 'application/json' }, body: JSON.stringify(body) })).status;
  t.equal(await post(`/api/pharmacies/${a}/users/${staffB.id}/disable`, {}), 404, 'admin of A cannot disable a user of B through A');
  t.equal(await post(`/api/pharmacies/${a}/users/${staffB.id}/role`, { role: 'pharmacy_admin' }), 404, 'nor change their role');
  t.equal(await post(`/api/pharmacies/${a}/users/${staffB.id}/sessions`, {}, 'DELETE'), 404, 'nor end their sessions');
  const [after] = (await app.app.db.query(`SELECT role, status = 'active' AS active FROM users WHERE id = $1`, [staffB.id])) as { role: string; active: boolean }[];
  t.same(after, { role: 'user', active: true }, 'the user of B is untouched');
  t.equal((await app.request(`/api/auth/session`, { headers: sessionB.headers })).status, 200, "B's session still works");
});


t.test('an admin without TOTP reaches only the enrolment routes: every route of the router checked', async (t) => {
  const app = await startTestApp(t, { RATE_LIMIT_PUBLIC_PER_MIN: '100000', RATE_LIMIT_WRITES_PER_MIN: '100000', RATE_LIMIT_READS_PER_MIN: '100000' });
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const own = pharmacyIds[0]!;
  // Both roles for which TOTP is mandatory, not enrolled yet.
  const pending = {
    pharmacy_admin: (await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: own })).id,
    super_admin: (await createUser(app.app, { role: 'super_admin' })).id,
  };
  const routes = declaredRoutes(buildRouter(app.app)).filter((r) => rule(r.spec.permission).scope !== 'public');
  let open = 0;
  for (const [role, id] of Object.entries(pending)) {
    for (const { method, path, spec } of routes) {
      if (spec.allowDuringTotpEnrolment) {
        open++;
        continue;
      }
      const url = path.replace(/:pharmacyId/g, own).replace(/:[A-Za-z]+/g, () => randomUUID());
      const headers = (await sessionFor(app.app, id)).headers;
      const res = await app.request(url, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { body: '{}' }) });
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
      t.ok(res.status === 403 && body.error?.code === 'totp_enrolment_required', `${method} ${path} as ${role} before TOTP: ${res.status} ${body.error?.code ?? ''}`);
    }
  }
  t.ok(open > 0 && open <= 10, `only a few routes stay open during enrolment (${open / 2})`);
});
