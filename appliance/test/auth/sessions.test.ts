import { acceptedOrigins } from '../../src/auth/auth-runtime.js';
import t from 'tap';
import { COOKIES } from '../../src/auth/cookies.js';
import { startTestApp } from '../helpers/app.js';
import { Browser, createGroupement, createUser, TEST_PASSWORD } from '../helpers/auth.js';

const auditActions = async (db: import('typeorm').DataSource, action: string) =>
  (await db.query(`SELECT level, target_id FROM audit_log WHERE action = $1 ORDER BY id`, [action])) as { level: string; target_id: string }[];

t.test('login sets __Host- cookies that are HttpOnly, Secure and SameSite=Strict', async (t) => {
  const app = await startTestApp(t);
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0] });
  const b = new Browser(app);
  const { res, data } = await b.login(u.email, TEST_PASSWORD);
  t.equal(res.status, 200);
  t.match(data, { account: { email: u.email, role: 'user', totpEnrolmentRequired: false }, csrfToken: String });
  t.ok(b.setCookies.length >= 3, 'access, refresh and csrf cookies set');
  for (const c of b.setCookies) {
    t.match(c, /^__Host-/, `${c.split('=')[0]}: __Host- prefix`);
    t.match(c, /; HttpOnly/, 'HttpOnly');
    t.match(c, /; Secure/, 'Secure');
    t.match(c, /; SameSite=Strict/, 'SameSite=Strict');
    t.match(c, /; Path=\/;/, 'Path=/');
    t.notMatch(c, /Domain=/i, 'no Domain');
  }
  const me = await b.request('/api/auth/session');
  t.equal(me.status, 200);
  t.equal(me.headers.get('cache-control'), 'no-store');
  t.match(await me.json(), { account: { id: u.id } });
  t.equal((await app.request('/api/auth/session')).status, 401, 'no cookie: 401');
  t.ok((await auditActions(app.app.db, 'auth.login.success')).some((r) => r.level === 'info'), 'login audited');

  const bad = await new Browser(app).login(u.email, 'wrong password of some length');
  t.equal(bad.res.status, 401);
  t.equal((bad.data as { error: { code: string } }).error.code, 'invalid_credentials');
  const unknown = await new Browser(app).login('nobody@pharmacie.test', 'wrong password of some length');
  t.equal(unknown.res.status, 401, 'unknown account: same answer');
  t.equal((unknown.data as { error: { code: string } }).error.code, 'invalid_credentials');
});

t.test('CSRF: missing or wrong token, or foreign Origin → 403', async (t) => {
  const app = await startTestApp(t);
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0] });
  const b = new Browser(app);
  await b.login(u.email, TEST_PASSWORD);
  const body = { currentPassword: 'x', newPassword: 'y' };
  const missing = await b.request('/api/auth/password', { method: 'POST', body, headers: { 'x-csrf-token': '' } });
  t.equal(missing.status, 403, 'missing token');
  t.equal(((await missing.json()) as { error: { code: string } }).error.code, 'csrf_token');
  const wrong = await b.request('/api/auth/password', { method: 'POST', body, headers: { 'x-csrf-token': 'A'.repeat(43) } });
  t.equal(wrong.status, 403, 'wrong token');
  const evil = await b.request('/api/auth/password', { method: 'POST', body, headers: { origin: 'https://evil.example' } });
  t.equal(evil.status, 403, 'foreign origin');
  t.equal(((await evil.json()) as { error: { code: string } }).error.code, 'csrf_origin');
  const noOrigin = await app.request('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: u.email, password: TEST_PASSWORD }) });
  t.equal(noOrigin.status, 403, 'login without Origin/CSRF refused too');
  const publicUrl = new URL(app.app.config.PUBLIC_URL);
  if (publicUrl.hostname === '127.0.0.1') {
    const alias = await b.request('/api/auth/password', { method: 'POST', body, headers: { origin: `${publicUrl.protocol}//localhost:${publicUrl.port}` } });
    t.equal(((await alias.json()) as { error: { code: string } }).error.code, 'wrong_current_password', 'loopback PUBLIC_URL: the localhost spelling of the same origin is accepted');
    const otherPort = await b.request('/api/auth/password', { method: 'POST', body, headers: { origin: `${publicUrl.protocol}//localhost:1` } });
    t.equal(((await otherPort.json()) as { error: { code: string } }).error.code, 'csrf_origin', 'but not another port');
  } else t.fail(`test app PUBLIC_URL expected on 127.0.0.1, got ${publicUrl.href}`);
  const ok = await b.request('/api/auth/password', { method: 'POST', body });
  t.equal(ok.status, 403, 'with a valid token the request reaches the handler (wrong current password)');
  t.equal(((await ok.json()) as { error: { code: string } }).error.code, 'wrong_current_password');
});

t.test('refresh rotates; reuse of a rotated token revokes the family with an alert', async (t) => {
  const app = await startTestApp(t, { REFRESH_REUSE_GRACE_SECONDS: '2' });
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0] });
  const b = new Browser(app);
  await b.login(u.email, TEST_PASSWORD);
  const rt0 = b.cookies.get(COOKIES.refresh)!;
  const r1 = await b.request('/api/auth/refresh', { method: 'POST' });
  t.equal(r1.status, 200);
  t.match(await r1.json(), { rotated: true });
  const rt1 = b.cookies.get(COOKIES.refresh)!;
  t.not(rt1, rt0, 'new refresh token');

  // Immediate parent within the grace period (a second tab): access token only, no new refresh token.
  const tab2 = new Browser(app);
  tab2.cookies.set(COOKIES.refresh, rt0);
  tab2.cookies.set(COOKIES.csrf, b.cookies.get(COOKIES.csrf)!);
  tab2.csrf = b.csrf;
  const g = await tab2.request('/api/auth/refresh', { method: 'POST' });
  t.equal(g.status, 200, 'grace for the immediate parent');
  t.match(await g.json(), { rotated: false });
  t.notOk(tab2.cookies.has(COOKIES.refresh) && tab2.cookies.get(COOKIES.refresh) !== rt0, 'no new refresh token in grace');

  const r2 = await b.request('/api/auth/refresh', { method: 'POST' });
  t.equal(r2.status, 200, 'current token still rotates');
  // rt0 is now a grandparent: reuse → family revoked.
  const attacker = new Browser(app);
  attacker.cookies.set(COOKIES.refresh, rt0);
  const reuse = await attacker.request('/api/auth/refresh', { method: 'POST' });
  t.equal(reuse.status, 401);
  t.equal(((await reuse.json()) as { error: { code: string } }).error.code, 'refresh_reuse');
  const alerts = await auditActions(app.app.db, 'auth.refresh.reuse');
  t.equal(alerts.length, 1, 'reuse audited');
  t.equal(alerts[0]!.level, 'alert', 'at alert level');
  t.equal((await b.request('/api/auth/refresh', { method: 'POST' })).status, 401, 'the legitimate token is dead too (family revoked)');
  t.equal((await b.request('/api/auth/session')).status, 401, 'and so is the access token (session revoked)');

  // Beyond the grace period, even the immediate parent counts as reuse.
  const c = new Browser(app);
  await c.login(u.email, TEST_PASSWORD);
  const p0 = c.cookies.get(COOKIES.refresh)!;
  await c.request('/api/auth/refresh', { method: 'POST' });
  await new Promise((r) => setTimeout(r, 2300));
  const late = new Browser(app);
  late.cookies.set(COOKIES.refresh, p0);
  const lateRes = await late.request('/api/auth/refresh', { method: 'POST' });
  t.equal(lateRes.status, 401, 'parent after the grace period → reuse');
  t.equal((await c.request('/api/auth/session')).status, 401, 'family revoked');
});

t.test('sessions: list, revoke, logout with Clear-Site-Data, password change ends the others', async (t) => {
  const app = await startTestApp(t, { RATE_LIMIT_PUBLIC_PER_MIN: '100' }); // six logins from one IP here
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0] });
  const a = new Browser(app);
  const b = new Browser(app);
  const c = new Browser(app);
  await a.login(u.email, TEST_PASSWORD);
  await b.login(u.email, TEST_PASSWORD);
  await c.login(u.email, TEST_PASSWORD);
  const list = (await (await a.request('/api/auth/sessions')).json()) as { sessions: { id: string; current: boolean }[] };
  t.equal(list.sessions.length, 3, 'three sessions listed');
  t.equal(list.sessions.filter((s) => s.current).length, 1, 'the current one is marked');
  const bId = ((await (await b.request('/api/auth/session')).json()) as { sessionId: string }).sessionId;
  t.equal((await a.request(`/api/auth/sessions/${bId}`, { method: 'DELETE' })).status, 204, 'revoke another own session');
  t.equal((await b.request('/api/auth/session')).status, 401, 'revoked session refused at once');

  const out = await c.request('/api/auth/logout', { method: 'POST' });
  t.equal(out.status, 204);
  t.equal(out.headers.get('clear-site-data'), '"cache", "cookies", "storage"');
  t.ok(out.headers.getSetCookie().every((sc) => /Max-Age=0/.test(sc) && /HttpOnly; Secure; SameSite=Strict/.test(sc)), 'cookies cleared with the same attributes');
  t.equal((await c.request('/api/auth/session')).status, 401);

  const d = new Browser(app);
  await d.login(u.email, TEST_PASSWORD);
  const newPassword = 'une phrase de passe toute neuve';
  const ch = await a.request('/api/auth/password', { method: 'POST', body: { currentPassword: TEST_PASSWORD, newPassword } });
  t.equal(ch.status, 204, 'password changed');
  t.equal((await a.request('/api/auth/session')).status, 200, 'the changing session stays');
  t.equal((await d.request('/api/auth/session')).status, 401, 'other sessions ended');
  t.equal((await new Browser(app).login(u.email, TEST_PASSWORD)).res.status, 401, 'old password refused');
  t.equal((await new Browser(app).login(u.email, newPassword)).res.status, 200, 'new password works');
  const weak = await a.request('/api/auth/password', { method: 'POST', body: { currentPassword: newPassword, newPassword: 'azerty123456' } });
  t.equal(weak.status, 422, 'common password refused');
  t.equal(((await weak.json()) as { error: { code: string } }).error.code, 'password_common');
  const short = await a.request('/api/auth/password', { method: 'POST', body: { currentPassword: newPassword, newPassword: 'court' } });
  t.equal(((await short.json()) as { error: { code: string } }).error.code, 'password_too_short');
});

t.test('idle and absolute lifetimes end a session', async (t) => {
  const app = await startTestApp(t);
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0] });
  const idle = new Browser(app);
  await idle.login(u.email, TEST_PASSWORD);
  await app.app.db.query(`UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE user_id = $1`, [u.id]);
  t.equal((await idle.request('/api/auth/session')).status, 401, 'idle > 30 min');
  t.equal((await idle.request('/api/auth/refresh', { method: 'POST' })).status, 401, 'refresh refused when idle');
  const old = new Browser(app);
  await old.login(u.email, TEST_PASSWORD);
  await app.app.db.query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND revoked_at IS NULL`, [u.id]);
  t.equal((await old.request('/api/auth/refresh', { method: 'POST' })).status, 401, 'absolute lifetime reached');
});

t.test('accepted origins: exactly PUBLIC_URL, plus loopback spellings for a loopback PUBLIC_URL', async (t) => {
  t.same([...acceptedOrigins('https://officine.groupement.fr/')], ['https://officine.groupement.fr']);
  t.same([...acceptedOrigins('https://10.0.0.5:8443')], ['https://10.0.0.5:8443'], 'a LAN address: no alias');
  t.same([...acceptedOrigins('http://127.0.0.1:8080')].sort(), ['http://127.0.0.1:8080', 'http://[::1]:8080', 'http://localhost:8080']);
  t.notOk(acceptedOrigins('http://localhost:8080').has('https://localhost:8080'), 'the scheme is kept');
});

t.test('a hash made with weaker argon2 parameters is upgraded at the next successful login, not on a failure', async (t) => {
  const argon2 = (await import('argon2')).default;
  const { ARGON2_PARAMS } = await import('../../src/auth/password.js');
  const app = await startTestApp(t);
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0] });
  // As if stored by an older release with lower costs (m=8 MiB, t=1).
  const weak = await argon2.hash(TEST_PASSWORD, { type: argon2.argon2id, memoryCost: 8192, timeCost: 1, parallelism: 1 });
  await app.app.db.query(`UPDATE users SET password_hash = $2 WHERE id = $1`, [u.id, weak]);
  const hashOf = async () => ((await app.app.db.query(`SELECT password_hash FROM users WHERE id = $1`, [u.id])) as { password_hash: string }[])[0]!.password_hash;

  t.equal((await new Browser(app).login(u.email, 'wrong password of some length')).res.status, 401);
  t.equal(await hashOf(), weak, 'a failed login leaves the hash alone');

  t.equal((await new Browser(app).login(u.email, TEST_PASSWORD)).res.status, 200, 'the old hash still verifies');
  const upgraded = await hashOf();
  t.not(upgraded, weak, 'rehashed at login');
  const params = Object.fromEntries(upgraded.split('$')[3]!.split(',').map((kv) => kv.split('=')));
  t.same(params, { m: String(ARGON2_PARAMS.memoryCost), t: String(ARGON2_PARAMS.timeCost), p: String(ARGON2_PARAMS.parallelism) }, 'with the current parameters');
  t.match(upgraded, /^\$argon2id\$/, 'still argon2id');
  t.ok(await argon2.verify(upgraded, TEST_PASSWORD), 'the new hash verifies the same password');
  t.equal((await new Browser(app).login(u.email, TEST_PASSWORD)).res.status, 200, 'and logs in');
});
