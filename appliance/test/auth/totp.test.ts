import { execFileSync } from 'node:child_process';
import t from 'tap';
import { startTestApp } from '../helpers/app.js';
import { Browser, createGroupement, createUser, TEST_PASSWORD } from '../helpers/auth.js';

/** A TOTP code from the independent `oathtool` (Debian package), for unix time `at`. */
function oathtool(secret: string, at: number): string {
  return execFileSync('oathtool', ['--totp', '-b', '-N', `@${at}`, secret], { encoding: 'utf8' }).trim();
}

/** Waits until we are early in a 30 s step, so a test's codes do not straddle a boundary. */
async function earlyInStep(): Promise<number> {
  const into = (Date.now() / 1000) % 30;
  if (into > 20) await new Promise((r) => setTimeout(r, (30 - into + 0.5) * 1000));
  return Math.floor(Date.now() / 1000);
}

const code = async (res: Response) => ((await res.json()) as { error?: { code: string } }).error?.code;

t.test('admin without TOTP reaches only enrolment; oathtool codes accepted once, ±1 step', async (t) => {
  const app = await startTestApp(t, { RATE_LIMIT_PUBLIC_PER_MIN: '100' });
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const pharmacyId = pharmacyIds[0]!;
  const admin = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId });
  const b = new Browser(app);
  const login = await b.login(admin.email, TEST_PASSWORD);
  t.equal(login.res.status, 200, 'password accepted');
  t.match(login.data, { account: { totpEnabled: false, totpEnrolmentRequired: true } });
  const blocked = await b.request(`/api/pharmacies/${pharmacyId}/users`);
  t.equal(blocked.status, 403, 'pharmacy data blocked before enrolment');
  t.equal(await code(blocked), 'totp_enrolment_required');
  t.equal((await b.request('/api/auth/sessions')).status, 403, 'even own sessions list is blocked');
  t.equal((await b.request(`/api/pharmacies/${pharmacyId}`)).status, 403, 'and pharmacy overview');
  t.equal((await b.request('/api/auth/session')).status, 200, 'whoami stays reachable');

  const enrol = await b.request('/api/auth/totp/enrol', { method: 'POST' });
  t.equal(enrol.status, 200);
  const e = (await enrol.json()) as { secret: string; otpauthUrl: string; qrDataUrl: string };
  t.match(e.otpauthUrl, /^otpauth:\/\/totp\/.+\?secret=[A-Z2-7]+/, 'otpauth URI');
  t.match(e.otpauthUrl, /issuer=Officine/);
  t.match(e.qrDataUrl, /^data:image\/png;base64,/, 'QR code as PNG');
  const sealed = (await app.app.db.query(`SELECT totp_pending_secret_enc AS s FROM users WHERE id = $1`, [admin.id])) as { s: string }[];
  t.notMatch(sealed[0]!.s, e.secret, 'seed stored encrypted');

  const bad = await b.request('/api/auth/totp/confirm', { method: 'POST', body: { code: '000000' === oathtool(e.secret, Math.floor(Date.now() / 1000)) ? '111111' : '000000' } });
  t.equal(bad.status, 422, 'wrong first code refused');

  const now = await earlyInStep();
  const confirm = await b.request('/api/auth/totp/confirm', { method: 'POST', body: { code: oathtool(e.secret, now) } });
  t.equal(confirm.status, 200, 'oathtool code confirms enrolment');
  const { recoveryCodes } = (await confirm.json()) as { recoveryCodes: string[] };
  t.equal(recoveryCodes.length, 10, '10 recovery codes');
  t.equal(new Set(recoveryCodes).size, 10, 'all different');
  const stored = (await app.app.db.query(`SELECT code_hash FROM totp_recovery_codes WHERE user_id = $1`, [admin.id])) as { code_hash: Buffer }[];
  t.equal(stored.length, 10);
  t.notOk(stored.some((r) => recoveryCodes.includes(r.code_hash.toString('utf8'))), 'stored hashed');
  t.equal((await b.request(`/api/pharmacies/${pharmacyId}/users`)).status, 200, 'after enrolment the pharmacy admin gets in');
  t.equal((await b.request('/api/auth/totp/enrol', { method: 'POST' })).status, 409, 'cannot re-enrol over an active seed');

  const noCode = await new Browser(app).login(admin.email, TEST_PASSWORD);
  t.equal(noCode.res.status, 401);
  t.equal((noCode.data as { error: { code: string } }).error.code, 'totp_required');

  const reused = await new Browser(app).login(admin.email, TEST_PASSWORD, { totp: oathtool(e.secret, now) });
  t.equal(reused.res.status, 401, 'the code used for enrolment cannot be reused');
  t.equal((reused.data as { error: { code: string } }).error.code, 'invalid_totp');

  const next = await new Browser(app).login(admin.email, TEST_PASSWORD, { totp: oathtool(e.secret, now + 30) });
  t.equal(next.res.status, 200, 'next step (+1) accepted');
  const again = await new Browser(app).login(admin.email, TEST_PASSWORD, { totp: oathtool(e.secret, now + 30) });
  t.equal(again.res.status, 401, 'same code a second time refused');
  const far = await new Browser(app).login(admin.email, TEST_PASSWORD, { totp: oathtool(e.secret, now + 90) });
  t.equal(far.res.status, 401, '+3 steps refused (outside ±1)');
  const audit = (await app.app.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.totp.failure' AND actor_user_id = $1`, [admin.id])) as { n: number }[];
  t.ok(audit[0]!.n >= 3, 'TOTP failures audited');

  const rec = await new Browser(app).login(admin.email, TEST_PASSWORD, { recoveryCode: recoveryCodes[0]! });
  t.equal(rec.res.status, 200, 'a recovery code works');
  const rec2 = await new Browser(app).login(admin.email, TEST_PASSWORD, { recoveryCode: recoveryCodes[0]! });
  t.equal(rec2.res.status, 401, 'once');
  const enrolled = (await app.app.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'auth.totp.enrolled'`)) as { n: number }[];
  t.equal(enrolled[0]!.n, 1, 'enrolment audited');
});

t.test('a past step (−1) is accepted when not older than the last used one', async (t) => {
  const app = await startTestApp(t);
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  const admin = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: pharmacyIds[0], totpSecret: secret });
  const now = await earlyInStep();
  const prev = await new Browser(app).login(admin.email, TEST_PASSWORD, { totp: oathtool(secret, now - 30) });
  t.equal(prev.res.status, 200, 'previous step (−1) accepted');
  const older = await new Browser(app).login(admin.email, TEST_PASSWORD, { totp: oathtool(secret, now - 60) });
  t.equal(older.res.status, 401, '−2 refused');
});

t.test('super-admin without TOTP is blocked from operations too', async (t) => {
  const app = await startTestApp(t);
  const sa = await createUser(app.app, { role: 'super_admin' });
  const b = new Browser(app);
  t.equal((await b.login(sa.email, TEST_PASSWORD)).res.status, 200);
  const r = await b.request('/api/admin/break-glass');
  t.equal(r.status, 403);
  t.equal(await code(r), 'totp_enrolment_required');
  t.equal((await b.request('/api/auth/totp/enrol', { method: 'POST' })).status, 200, 'enrolment reachable');
});
