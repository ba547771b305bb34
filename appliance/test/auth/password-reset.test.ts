import { execFileSync } from 'node:child_process';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { Browser, createGroupement, createUser, sessionFor, TEST_PASSWORD } from '../helpers/auth.js';
import { startSmtp } from '../helpers/smtp.js';

const tokenIn = (text: string) => /#jeton=([A-Za-z0-9_-]+)/.exec(text)?.[1];

t.test('reset token: emailed, single use, expires after 30 min, ends sessions', async (t) => {
  const smtp = await startSmtp(t);
  const app = await startTestApp(t, { ...smtp.env, RATE_LIMIT_PUBLIC_PER_MIN: '100' });
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0] });
  const session = await sessionFor(app.app, u.id);
  const b = new Browser(app);
  const r = await b.request('/api/auth/password/forgot', { method: 'POST', body: { email: u.email.toUpperCase() } });
  t.equal(r.status, 202);
  const unknown = await b.request('/api/auth/password/forgot', { method: 'POST', body: { email: 'nobody@pharmacie.test' } });
  t.equal(unknown.status, 202, 'same answer for an unknown address');
  t.same(await unknown.json(), await r.json(), 'same body for known and unknown addresses');
  const mail = await smtp.waitFor((m) => m.to.includes(u.email));
  t.match(mail.subject, /Réinitialisation/);
  t.match(mail.text, /valable 30 minutes/);
  const token = tokenIn(mail.text)!;
  t.ok(token, 'link carries the token in the fragment');
  const stored = (await app.app.db.query(`SELECT token_hash FROM auth_tokens WHERE user_id = $1`, [u.id])) as { token_hash: Buffer }[];
  t.notOk(stored.some((s) => s.token_hash.toString('base64url') === token), 'only a hash is stored');

  const newPassword = 'nouvelle phrase de passe solide';
  const ok = await b.request('/api/auth/password/reset', { method: 'POST', body: { token, newPassword } });
  t.equal(ok.status, 204, 'reset accepted');
  const again = await b.request('/api/auth/password/reset', { method: 'POST', body: { token, newPassword: 'encore une autre phrase longue' } });
  t.equal(again.status, 400, 'second use refused');
  t.match(await again.json(), { error: { code: 'invalid_reset_token' } });
  t.equal((await app.request('/api/auth/session', { headers: session.headers })).status, 401, 'existing sessions ended');
  t.equal((await new Browser(app).login(u.email, newPassword)).res.status, 200, 'new password works');

  await b.request('/api/auth/password/forgot', { method: 'POST', body: { email: u.email } });
  const mail2 = await smtp.waitFor((m) => m.to.includes(u.email) && tokenIn(m.text) !== token);
  const token2 = tokenIn(mail2.text)!;
  await app.app.db.query(`UPDATE auth_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND used_at IS NULL`, [u.id]);
  const expired = await b.request('/api/auth/password/reset', { method: 'POST', body: { token: token2, newPassword: 'encore une autre phrase longue' } });
  t.equal(expired.status, 400, 'expired token refused');
  const life = (await app.app.db.query(`SELECT extract(epoch FROM expires_at - created_at)::int AS s FROM auth_tokens WHERE user_id = $1 ORDER BY created_at LIMIT 1`, [u.id])) as { s: number }[];
  t.equal(life[0]!.s, 1800, 'tokens are issued for 30 minutes');
});

t.test('a reset never bypasses TOTP', async (t) => {
  const smtp = await startSmtp(t);
  const app = await startTestApp(t, { ...smtp.env, RATE_LIMIT_PUBLIC_PER_MIN: '100' });
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const secret = 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU';
  const admin = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: pharmacyIds[0], totpSecret: secret });
  const b = new Browser(app);
  await b.request('/api/auth/password/forgot', { method: 'POST', body: { email: admin.email } });
  const token = tokenIn((await smtp.waitFor((m) => m.to.includes(admin.email))).text)!;
  const newPassword = 'phrase de passe du titulaire';
  const without = await b.request('/api/auth/password/reset', { method: 'POST', body: { token, newPassword } });
  t.equal(without.status, 401, 'no TOTP code: refused');
  t.match(await without.json(), { error: { code: 'totp_required' } });
  const wrong = await b.request('/api/auth/password/reset', { method: 'POST', body: { token, newPassword, totp: '000000' } });
  t.equal(wrong.status, 401, 'wrong code refused');
  const codeNow = execFileSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8' }).trim();
  const ok = await b.request('/api/auth/password/reset', { method: 'POST', body: { token, newPassword, totp: codeNow } });
  t.equal(ok.status, 204, 'token + TOTP: accepted (the token survived the failed attempts)');
  const login = await new Browser(app).login(admin.email, newPassword);
  t.equal(login.res.status, 401, 'login still needs TOTP afterwards');
  t.match(login.data, { error: { code: 'totp_required' } });
});

t.test('email verification activates an invited account', async (t) => {
  const smtp = await startSmtp(t);
  const app = await startTestApp(t, { ...smtp.env, RATE_LIMIT_PUBLIC_PER_MIN: '100' });
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const pharmacyId = pharmacyIds[0]!;
  const admin = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId, totpSecret: 'JBSWY3DPEHPK3PXP' });
  const s = await sessionFor(app.app, admin.id);
  const invite = await app.request(`/api/pharmacies/${pharmacyId}/users`, {
    method: 'POST',
    headers: { ...s.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'Nouvelle.Preparatrice@pharmacie.test', displayName: 'Nouvelle Préparatrice', role: 'user' }),
  });
  t.equal(invite.status, 201);
  t.match(await invite.json(), { user: { email: 'nouvelle.preparatrice@pharmacie.test', status: 'pending' } });
  const mail = await smtp.waitFor((m) => m.to.includes('nouvelle.preparatrice@pharmacie.test'));
  t.match(mail.subject, /Activez votre compte/);
  t.match(mail.text, /Bonjour Nouvelle Préparatrice/);
  const token = tokenIn(mail.text)!;
  const b = new Browser(app);
  const pending = await b.login('nouvelle.preparatrice@pharmacie.test', 'whatever password at all');
  t.equal(pending.res.status, 401, 'no usable password before verification');
  const weak = await b.request('/api/auth/verify-email', { method: 'POST', body: { token, password: 'motdepasse123' } });
  t.equal(weak.status, 422, 'common password refused at activation');
  const ok = await b.request('/api/auth/verify-email', { method: 'POST', body: { token, password: 'ma phrase de passe à moi' } });
  t.equal(ok.status, 204, 'verified and password chosen');
  t.equal((await b.request('/api/auth/verify-email', { method: 'POST', body: { token } })).status, 400, 'verification token single-use');
  t.equal((await b.login('nouvelle.preparatrice@pharmacie.test', 'ma phrase de passe à moi')).res.status, 200, 'active account logs in');

  const p2 = await createUser(app.app, { role: 'user', pharmacyId, status: 'pending' });
  const pend = await new Browser(app).login(p2.email, TEST_PASSWORD);
  t.equal(pend.res.status, 403, 'pending account with right password: verify first');
  t.match(pend.data, { error: { code: 'email_not_verified' } });
  const resend = await new Browser(app).request('/api/auth/verify-email/resend', { method: 'POST', body: { email: p2.email } });
  t.equal(resend.status, 202);
  await smtp.waitFor((m) => m.to.includes(p2.email));
});
