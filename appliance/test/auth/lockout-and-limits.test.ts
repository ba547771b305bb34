import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { Browser, createGroupement, createUser, sessionFor, TEST_PASSWORD } from '../helpers/auth.js';
import { startSmtp } from '../helpers/smtp.js';

const errCode = (d: Record<string, unknown>) => (d as { error?: { code: string } }).error?.code;

t.test('5 failed logins in 15 min lock the account for 15 min and email its owner in French', async (t) => {
  const smtp = await startSmtp(t);
  const app = await startTestApp(t, { ...smtp.env, RATE_LIMIT_PUBLIC_PER_MIN: '100' });
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0] });
  for (let i = 1; i <= 4; i++) {
    const r = await new Browser(app).login(u.email, `wrong password number ${i}`);
    t.equal(r.res.status, 401, `failure ${i}: 401`);
  }
  const fifth = await new Browser(app).login(u.email, 'wrong password number 5');
  t.equal(fifth.res.status, 423, 'the 5th failure locks');
  t.equal(errCode(fifth.data), 'account_locked');
  const retry = Number(fifth.res.headers.get('retry-after'));
  t.ok(retry > 14 * 60 && retry <= 15 * 60, `Retry-After ≈ 15 min (${retry}s)`);
  const right = await new Browser(app).login(u.email, TEST_PASSWORD);
  t.equal(right.res.status, 423, 'even the right password is refused while locked');
  const mail = await smtp.waitFor((m) => m.to.includes(u.email));
  t.match(mail.subject, /verrouillé/, 'French subject');
  t.match(mail.text, /verrouillé pendant 15 minutes/, 'French body with the duration');
  const audits = (await app.app.db.query(`SELECT action, level FROM audit_log WHERE actor_user_id = $1 ORDER BY id`, [u.id])) as { action: string; level: string }[];
  t.equal(audits.filter((a) => a.action === 'auth.login.failure').length, 5, 'each failure audited');
  t.ok(audits.some((a) => a.action === 'auth.lockout'), 'lockout audited');

  // Unknown accounts lock the same way (no enumeration), without email.
  for (let i = 0; i < 5; i++) await new Browser(app).login('ghost@pharmacie.test', `wrong password number ${i}`);
  t.equal((await new Browser(app).login('ghost@pharmacie.test', 'anything at all here')).res.status, 423);

  // The lock lives in PostgreSQL (shared by processes): expiring it there unlocks.
  await app.app.db.query(`DELETE FROM rate_limits WHERE key LIKE 'lfa:%'`);
  t.equal((await new Browser(app).login(u.email, TEST_PASSWORD)).res.status, 200, 'unlocked after the lock expires');
});

t.test('public endpoints: 5/min per IP, then 429 with Retry-After', async (t) => {
  const app = await startTestApp(t);
  const statuses: number[] = [];
  let last: Response | undefined;
  for (let i = 0; i < 6; i++) {
    last = (await new Browser(app).request('/api/auth/password/forgot', { method: 'POST', body: { email: `x${i}@pharmacie.test` } })).clone();
    statuses.push(last.status);
  }
  t.same(statuses.slice(0, 5), [202, 202, 202, 202, 202], 'five accepted');
  t.equal(statuses[5], 429, 'the sixth is limited');
  const ra = Number(last!.headers.get('retry-after'));
  t.ok(ra >= 1 && ra <= 60, `Retry-After ${ra}s`);
  t.match(await last!.json(), { error: { code: 'rate_limited' } });
  const rows = (await app.app.db.query(`SELECT count(*)::int AS n FROM rate_limits WHERE key LIKE 'pub:%'`)) as { n: number }[];
  t.ok(rows[0]!.n >= 1, 'counter stored in PostgreSQL');
});

t.test('per-user write and read limits', async (t) => {
  const app = await startTestApp(t, { RATE_LIMIT_WRITES_PER_MIN: '3', RATE_LIMIT_READS_PER_MIN: '4' });
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0] });
  const s = await sessionFor(app.app, u.id);
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) reads.push((await app.request('/api/auth/sessions', { headers: s.headers })).status);
  t.same(reads, [200, 200, 200, 200, 429], 'reads: 4 then 429');
  const writes: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await app.request('/api/auth/password', { method: 'POST', headers: { ...s.headers, 'content-type': 'application/json' }, body: '{}' });
    writes.push(r.status);
  }
  t.same(writes, [422, 422, 422, 429], 'writes: 3 then 429');
  const other = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0] });
  t.equal((await app.request('/api/auth/sessions', { headers: (await sessionFor(app.app, other.id)).headers })).status, 200, 'limits are per user');
});
