import t from 'tap';
import { createTestDataSource } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { startTestApp, tempDir } from '../helpers/app.js';
import { Browser, createGroupement } from '../helpers/auth.js';
import { oathtoolTotp } from '../helpers/totp.js';
import { notePersonalValues } from '../helpers/log-scan.js';
import { COOKIES } from '../../src/auth/cookies.js';
import { SecretBox } from '../../src/auth/secret-box.js';

t.test('appliance users create | list | disable | reset-totp', async (t) => {
  const { ds, url } = await createTestDataSource(t);
  const dataDir = tempDir(t);
  const env = { DATABASE_URL: url, DATA_DIR: dataDir };
  const { pharmacyIds } = await createGroupement(ds, 1);
  const finess = ((await ds.query(`SELECT finess FROM pharmacies WHERE id = $1`, [pharmacyIds[0]])) as { finess: string }[])[0]!.finess;

  const help = await runCli(['users', '--help'], env);
  t.match(help.stdout, /create[\s\S]*list[\s\S]*disable[\s\S]*reset-totp/, '--help lists the sub-commands');

  const created = await runCli(['users', 'create', '--email', 'Titulaire@Pharmacie.test', '--name', 'Mme Titulaire', '--role', 'pharmacy_admin', '--pharmacy', finess, '--password-stdin', '--activate'], env, 'phrase de passe de la titulaire\n');
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, /Compte créé : titulaire@pharmacie\.test \(pharmacy_admin\)/);
  const pending = await runCli(['users', 'create', '--email', 'staff@pharmacie.test', '--name', 'Staff', '--role', 'user', '--pharmacy', finess], env);
  t.equal(pending.code, 0, pending.stderr);
  t.match(pending.stdout, /en attente de vérification/);
  const { readdirSync } = await import('node:fs');
  t.equal(readdirSync(`${dataDir}/outbox`).filter((f) => f.endsWith('.eml')).length, 1, 'verification email written to the outbox (no SMTP configured)');

  const weak = await runCli(['users', 'create', '--email', 'weak@pharmacie.test', '--name', 'W', '--role', 'user', '--pharmacy', finess, '--password-stdin'], env, 'azerty123456');
  t.equal(weak.code, 1, 'common password refused');
  t.match(weak.stderr, /trop courant/);
  const noPharmacy = await runCli(['users', 'create', '--email', 'x@pharmacie.test', '--name', 'X', '--role', 'user'], env);
  t.equal(noPharmacy.code, 1);
  t.match(noPharmacy.stderr, /--pharmacy/);

  const list = await runCli(['users', 'list', '--json'], env);
  const users = JSON.parse(list.stdout) as { email: string; status: string; role: string }[];
  t.match(users.find((u) => u.email === 'titulaire@pharmacie.test'), { status: 'active', role: 'pharmacy_admin' });
  t.match(users.find((u) => u.email === 'staff@pharmacie.test'), { status: 'pending' });
  t.match((await runCli(['users', 'list', '--pharmacy', finess], env)).stdout, /staff@pharmacie\.test\s+user\s+pending/);

  const hash = ((await ds.query(`SELECT password_hash FROM users WHERE email = 'titulaire@pharmacie.test'`)) as { password_hash: string }[])[0]!.password_hash;
  t.match(hash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/, 'argon2id with the chosen parameters');

  await ds.query(`UPDATE users SET totp_secret_enc = 'v1.x.y.z', totp_enabled_at = now() WHERE email = 'titulaire@pharmacie.test'`);
  const noReason = await runCli(['users', 'reset-totp', 'titulaire@pharmacie.test'], env);
  t.not(noReason.code, 0, 'reset-totp requires a reason');
  const reset = await runCli(['users', 'reset-totp', 'titulaire@pharmacie.test', '--reason', 'téléphone perdu, appel vérifié'], env);
  t.equal(reset.code, 0, reset.stderr);
  const after = ((await ds.query(`SELECT totp_enabled_at FROM users WHERE email = 'titulaire@pharmacie.test'`)) as { totp_enabled_at: Date | null }[])[0]!;
  t.equal(after.totp_enabled_at, null, 'TOTP removed');
  const audit = (await ds.query(`SELECT level, actor_role, details FROM audit_log WHERE action = 'auth.totp.reset'`)) as { level: string; actor_role: string; details: { via: string; reason: string } }[];
  t.match(audit, [{ level: 'warning', actor_role: 'console', details: { via: 'console', reason: 'téléphone perdu, appel vérifié' } }], 'audited as a console action');

  const dis = await runCli(['users', 'disable', 'staff@pharmacie.test'], env);
  t.equal(dis.code, 0);
  t.match(dis.stdout, /désactivé/);
  t.equal(((await ds.query(`SELECT status FROM users WHERE email = 'staff@pharmacie.test'`)) as { status: string }[])[0]!.status, 'disabled');
  const unknown = await runCli(['users', 'disable', 'nobody@pharmacie.test'], env);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /Aucun compte/);
});

t.test('users create --enrol-totp: the printed seed logs in (oathtool), a recovery code works once, the password alone opens nothing, no secret logged', async (t) => {
  // The console and the app share the database and DATA_DIR (hence the data key), as on an installed appliance.
  const ta = await startTestApp(t, { RATE_LIMIT_PUBLIC_PER_MIN: '100' }); // seven logins from one IP here
  const env = { DATABASE_URL: ta.app.config.DATABASE_URL!, DATA_DIR: ta.app.config.dataDir, LOG_LEVEL: 'debug' };
  const email = 'dsi@groupement.test';
  const password = 'phrase de passe du premier opérateur';
  const r = await runCli(['users', 'create', '--email', email, '--name', 'DSI', '--role', 'super_admin', '--activate', '--password-stdin', '--enrol-totp'], env, password + '\n');
  t.equal(r.code, 0, r.stderr);

  const uri = /^URI : (otpauth:\/\/totp\/\S+)$/m.exec(r.stdout)?.[1];
  t.ok(uri, 'otpauth URI printed');
  const u = new URL(uri!);
  const secret = u.searchParams.get('secret')!;
  t.match(secret, /^[A-Z2-7]{32}$/, '160-bit base32 seed');
  t.equal(u.searchParams.get('issuer'), 'Officine Appliance');
  t.equal(decodeURIComponent(u.pathname), `/${email}`, 'labelled with the account');
  // eslint-disable-next-line no-control-regex
  t.match(r.stdout.replace(/\x1b\[[0-9;]*m/g, ''), /^ [ ▀▄█]{20,} $/m, 'QR code drawn in the terminal');
  const codes = [...r.stdout.matchAll(/^ {2}([a-z2-9]{5}-[a-z2-9]{5})$/gm)].map((m) => m[1]!);
  t.equal(new Set(codes).size, 10, '10 distinct recovery codes printed');
  t.match(r.stdout, /active dès maintenant/);
  // The run's final log scan (app logs and the console's JSON lines, via runCli) now looks for these too.
  notePersonalValues(secret, ...codes);

  const row = ((await ta.app.db.query(
    `SELECT totp_secret_enc, totp_pending_secret_enc, totp_enabled_at, totp_last_step FROM users WHERE email = $1`,
    [email],
  )) as { totp_secret_enc: string; totp_pending_secret_enc: string | null; totp_enabled_at: Date | null; totp_last_step: string | null }[])[0]!;
  t.notOk(row.totp_secret_enc.includes(secret), 'seed not stored in plain text');
  t.equal(SecretBox.fromSecrets(ta.app.secrets).open(row.totp_secret_enc, 'users.totp_secret'), secret, 'seed sealed with the data key, as the web enrolment does');
  t.equal(row.totp_pending_secret_enc, null);
  t.ok(row.totp_enabled_at, 'active at once');
  t.equal(row.totp_last_step, null, 'no code used yet: the first login is the confirmation');
  const auditRows = (await ta.app.db.query(`SELECT actor_role, details FROM audit_log WHERE action = 'auth.totp.enrolled'`)) as { actor_role: string; details: Record<string, unknown> }[];
  t.match(auditRows, [{ actor_role: 'console', details: { via: 'console', confirmation: 'first_login' } }], 'enrolment audited as a console action');

  const errCode = (d: Record<string, unknown>) => (d.error as { code: string } | undefined)?.code;
  const noCode = new Browser(ta);
  const pw = await noCode.login(email, password);
  t.equal(pw.res.status, 401, 'the password alone is refused');
  t.equal(errCode(pw.data), 'totp_required');
  t.notOk(noCode.cookies.has(COOKIES.access) || noCode.cookies.has(COOKIES.refresh), 'no session, not even an enrolment one');

  const wrong = await new Browser(ta).login(email, password, { totp: oathtoolTotp('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP') });
  t.equal(wrong.res.status, 401, 'a code of another seed is refused');
  t.equal(errCode(wrong.data), 'invalid_totp');

  const code = oathtoolTotp(secret);
  const b = new Browser(ta);
  const ok = await b.login(email, password, { totp: code });
  t.equal(ok.res.status, 200, 'oathtool code from the printed seed logs in');
  t.equal((ok.data.account as { totpEnabled: boolean }).totpEnabled, true);
  t.equal((await b.request('/api/admin/status')).status, 200, 'and reaches the super-admin pages');
  const replay = await new Browser(ta).login(email, password, { totp: code });
  t.equal(replay.res.status, 401, 'the same code does not work twice');

  const rec = new Browser(ta);
  const byRecovery = await rec.login(email, password, { recoveryCode: codes[3]! });
  t.equal(byRecovery.res.status, 200, 'a printed recovery code logs in');
  const reused = await new Browser(ta).login(email, password, { recoveryCode: codes[3]! });
  t.equal(reused.res.status, 401, 'the recovery code works once');
  t.equal(errCode(reused.data), 'invalid_totp');

  // The console's JSON log lines (LOG_LEVEL=debug) and stderr carry neither; runCli also hands the
  // log lines to the run's final scan, which looks for the values noted above in every log.
  const leaks = (s: string) => s.includes(secret) || s.includes('otpauth') || codes.some((c) => s.includes(c));
  const logLines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.startsWith('{"level"'));
  t.notOk(logLines.some(leaks), `neither seed nor recovery codes in the console log lines (${logLines.length} checked)`);
  t.notOk(leaks(r.stderr), 'nor on its stderr: printed once, on stdout only');
});
