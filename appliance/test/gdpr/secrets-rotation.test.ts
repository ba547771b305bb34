import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import t from 'tap';
import { DATA_KEY_SECRET, registerSealedColumn, registeredSealedColumns, rotateDataKey, SecretBox } from '../../src/auth/secret-box.js';
import { SecretStore } from '../../src/config/secrets.js';
import { startTestApp, tempDir } from '../helpers/app.js';
import { createGroupement, createUser } from '../helpers/auth.js';
import { runCli } from '../helpers/cli.js';

/** A value in the pre-rotation format (`v1.`, no key id), as TOTP seeds were sealed before. */
function sealV1(key: Buffer, plaintext: string, aad: string): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return ['v1', nonce, ct, c.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

t.test('data key rotation re-encrypts every registered sealed column', async (t) => {
  const app = await startTestApp(t);
  const db = app.app.db;
  const { pharmacyIds } = await createGroupement(db, 1);
  const seed = 'JBSWY3DPEHPK3PXP';
  const u = await createUser(app.app, { role: 'pharmacy_admin', pharmacyId: pharmacyIds[0]!, totpSecret: seed });
  const legacy = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0]! });
  const oldBox = SecretBox.fromSecrets(app.app.secrets);
  const oldKey = Buffer.from(app.app.secrets.get(DATA_KEY_SECRET).toString('utf8').trim(), 'base64');
  await db.query(`UPDATE users SET totp_pending_secret_enc = $2 WHERE id = $1`, [legacy.id, sealV1(oldKey, 'KRSXG5CTMVRXEZLU', 'users.totp_secret')]);

  // A module's own sealed column (as the agent's connector credentials will be) joins through the registry.
  await db.query(`CREATE TABLE connector_credentials (pharmacy_id uuid, name text, secret_enc text, PRIMARY KEY (pharmacy_id, name))`);
  registerSealedColumn({ table: 'connector_credentials', column: 'secret_enc', key: ['pharmacy_id', 'name'], aad: 'connector_credentials.secret' });
  t.ok(registeredSealedColumns().some((c) => c.table === 'connector_credentials'), 'registered');
  t.throws(() => registerSealedColumn({ table: 'x; drop table users', column: 'y', key: ['id'], aad: 'a' }), /invalid sealed column/);
  await db.query(`INSERT INTO connector_credentials VALUES ($1, 'lgpi', $2)`, [pharmacyIds[0], oldBox.seal('lgo-password-123', 'connector_credentials.secret')]);

  const before = (await db.query(`SELECT totp_secret_enc FROM users WHERE id = $1`, [u.id]))[0].totp_secret_enc as string;
  t.ok(before.startsWith(`v2.${oldBox.currentKeyId}.`), 'sealed with the key id');

  const r = await rotateDataKey(db, app.app.secrets);
  t.not(r.newKeyId, r.oldKeyId);
  t.same(r.reencrypted, { 'users.totp_secret_enc': 1, 'users.totp_pending_secret_enc': 1, 'connector_credentials.secret_enc': 1 }, 'every sealed value re-encrypted once');
  const after = (await db.query(`SELECT totp_secret_enc FROM users WHERE id = $1`, [u.id]))[0].totp_secret_enc as string;
  const pending = (await db.query(`SELECT totp_pending_secret_enc FROM users WHERE id = $1`, [legacy.id]))[0].totp_pending_secret_enc as string;
  const cred = (await db.query(`SELECT secret_enc FROM connector_credentials`))[0].secret_enc as string;
  for (const v of [after, pending, cred]) t.ok(v.startsWith(`v2.${r.newKeyId}.`), 'under the new key');

  // Only the new key is needed now: a box with the new key alone opens everything; the old key alone opens nothing.
  const newKey = Buffer.from(app.app.secrets.get(DATA_KEY_SECRET).toString('utf8').trim(), 'base64');
  const onlyNew = new SecretBox(newKey);
  t.equal(onlyNew.open(after, 'users.totp_secret'), seed);
  t.equal(onlyNew.open(pending, 'users.totp_secret'), 'KRSXG5CTMVRXEZLU', 'legacy v1 value migrated');
  t.equal(onlyNew.open(cred, 'connector_credentials.secret'), 'lgo-password-123');
  t.throws(() => new SecretBox(oldKey).open(after, 'users.totp_secret'), /unknown data key/, 'the old key cannot open rotated values');
  t.throws(() => onlyNew.open(cred, 'users.totp_secret'), 'associated data binds a value to its column');

  // Second rotation with --forget-retired: retired keys are deleted, values still open.
  t.equal((await rotateDataKey(db, app.app.secrets)).reencrypted['users.totp_secret_enc'], 1);
  const retiredBefore = readdirSync(app.app.secrets.dir).filter((f) => f.startsWith('data-key.retired.'));
  t.equal(retiredBefore.length, 2, 'retired keys kept by default (older backups)');
  const r3 = await rotateDataKey(db, app.app.secrets, { forgetRetired: true });
  t.equal(r3.forgotten.length, 3);
  t.same(readdirSync(app.app.secrets.dir).filter((f) => f.startsWith('data-key.retired.')), []);
  const fresh = SecretBox.fromSecrets(new SecretStore(app.app.secrets.dir));
  t.equal(fresh.open((await db.query(`SELECT totp_secret_enc FROM users WHERE id = $1`, [u.id]))[0].totp_secret_enc, 'users.totp_secret'), seed, 'TOTP seed intact after three rotations');
});

t.test('`appliance keys rotate-data-key` from the console', async (t) => {
  const app = await startTestApp(t);
  const dataDir = tempDir(t);
  const env = { DATABASE_URL: (app.app.db.options as { url: string }).url, DATA_DIR: dataDir };
  const { pharmacyIds } = await createGroupement(app.app.db, 1);
  // Seal with the console's data key (DATA_DIR/secrets), as the running appliance would.
  const consoleSecrets = new SecretStore(`${dataDir}/secrets`);
  const box = SecretBox.fromSecrets(consoleSecrets);
  const u = await createUser(app.app, { role: 'user', pharmacyId: pharmacyIds[0]! });
  await app.app.db.query(`UPDATE users SET totp_pending_secret_enc = $2 WHERE id = $1`, [u.id, box.seal('GEZDGNBVGY3TQOJQ', 'users.totp_secret')]);
  const res = await runCli(['keys', 'rotate-data-key'], env);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /Clé de données renouvelée \([0-9a-f]{12} → [0-9a-f]{12}\) : 1 valeur\(s\) rechiffrée\(s\)\./);
  t.ok(existsSync(`${dataDir}/secrets/data-key.retired.${box.currentKeyId}`), 'old key retired, not lost');
  const v = (await app.app.db.query(`SELECT totp_pending_secret_enc AS v FROM users WHERE id = $1`, [u.id]))[0].v as string;
  t.equal(SecretBox.fromSecrets(new SecretStore(`${dataDir}/secrets`)).open(v, 'users.totp_secret'), 'GEZDGNBVGY3TQOJQ');
  t.notOk(v.includes(box.currentKeyId), 'no longer under the old key');
  const ev = (await app.app.db.query(`SELECT details FROM audit_log WHERE action = 'keys.data_key_rotated'`)) as { details: { oldKeyId: string } }[];
  t.equal(ev[0]!.details.oldKeyId, box.currentKeyId, 'audited');
});
