import t from 'tap';
import { createTestDataSource } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/app.js';
import { createGroupement } from '../helpers/auth.js';

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
