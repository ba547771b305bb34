import { mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pgLib from 'pg';
import t, { type Test } from 'tap';
import { layout } from '../../src/backup/backup-manifest.js';
import { backupTools } from '../../src/backup/backup-settings.js';
import { restoreBackup, RestoreService } from '../../src/backup/restore.service.js';
import { signDocument } from '../../src/backup/signed-document.js';
import { SigningKey, trustedManifestSigners } from '../../src/backup/signing-key.js';
import { DirectoryStore } from '../../src/backup/targets/directory-store.js';
import { SecretStore } from '../../src/config/secrets.js';
import { createLogger } from '../../src/logging/logger.js';
import { tempDir } from '../helpers/app.js';
import { createTestDatabase, testPgEnv } from '../helpers/db.js';
import { ageKeyPair, backupFixture, fingerprint } from './helpers.js';

const adminUrl = () => testPgEnv().adminUrl;

/**
 * Databases on the shared test server, less the per-file clones (`t_<12 hex>`) that
 * other test files create and drop concurrently; a restore's scratch database is
 * `<target>_restore_<suffix>` and stays visible.
 */
async function databases(): Promise<string[]> {
  const c = new pgLib.Client({ connectionString: adminUrl() });
  await c.connect();
  try {
    return (await c.query<{ d: string }>('SELECT datname AS d FROM pg_database ORDER BY 1')).rows
      .map((r) => r.d)
      .filter((d) => !/^t_[0-9a-f]{12}$/.test(d));
  } finally {
    await c.end();
  }
}

t.test('backup → restore: identical row counts and content, sealed with age, signed manifest', async (t) => {
  const f = await backupFixture(t);
  const before = await fingerprint(f.db.url);
  const r = await f.service().run();
  t.equal(r.status, 'verified', 'backup verified on the NAS mount');
  const m = r.manifest!;
  t.equal(m.tables.find((x) => x.name === 'public.bk_sales')?.rows, 5000, 'manifest row count for the fact table');
  t.ok(m.foreignKeys.some((fk) => fk.table === 'public.bk_sales'), 'manifest lists the fact table FK');
  t.equal(m.recipients.length, 2, 'vault and drill recipients');
  const file = join(f.nasDir, layout.artifact(r.id, layout.dumpName));
  const head = readFileSync(file).subarray(0, 40).toString();
  t.match(head, /^age-encryption\.org\/v1\n-> X25519 /, 'artefact is an age file');
  t.notMatch(readFileSync(file).toString('latin1'), /Pharmacie 1|PGDMP/, 'no plaintext in the artefact');
  t.equal(statSync(file).size, m.artifacts[0]!.size, 'size recorded in the manifest');

  const rows = await f.db.ds.query(`SELECT status, targets FROM backup_records WHERE id = $1`, [r.id]);
  t.equal(rows[0].status, 'verified', 'backup recorded as verified');

  // Restore into an empty target database with the drill key.
  const target = await createTestDatabase(t, { empty: true });
  const svc = new RestoreService(backupTools(f.config), createLogger('silent'), trustedManifestSigners(undefined, f.secrets));
  const work = tempDir(t);
  const res = await restoreBackup(svc, f.nas, f.drill.identity, { workDir: work, adminUrl: adminUrl(), database: target.name, targetUrl: target.url });
  t.ok(res.check.ok, 'restored database matches the manifest');
  t.same(await fingerprint(target.url), before, 'identical per-table row counts and content checksums');

  // Swap mode: the "appliance" database is replaced only after verification; the old one is kept.
  const live = await createTestDatabase(t, { empty: true });
  const c = new pgLib.Client({ connectionString: live.url });
  await c.connect();
  await c.query('CREATE TABLE marker (x int)');
  await c.end();
  const swapped = await restoreBackup(svc, f.nas, f.vault.identity, { workDir: work, adminUrl: adminUrl(), database: live.name });
  t.ok(swapped.previous, 'previous database kept under another name');
  t.teardown(() => dropDb(swapped.previous!));
  t.same(await fingerprint(live.url), before, 'swapped-in database identical to the source');
  t.ok((await databases()).includes(swapped.previous!), 'old database still there');
});

async function dropDb(name: string) {
  const c = new pgLib.Client({ connectionString: adminUrl() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await c.end();
}

t.test('refusals happen before the target is touched', async (t) => {
  const f = await backupFixture(t, { rows: 2000 });
  const r = await f.service().run();
  t.equal(r.status, 'verified');
  const svc = new RestoreService(backupTools(f.config), createLogger('silent'), trustedManifestSigners(undefined, f.secrets));
  const work = tempDir(t);

  // A copy of the backup folder that each case damages.
  const copy = (name: string) => {
    const root = tempDir(t, `officine-${name}-`);
    for (const file of [layout.manifest(r.id), layout.artifact(r.id, layout.dumpName)]) {
      const src = join(f.nasDir, file);
      const dst = join(root, file);
      mkdirSync(dirname(dst), { recursive: true });
      writeFileSync(dst, readFileSync(src));
    }
    return { root, dump: join(root, layout.artifact(r.id, layout.dumpName)), manifest: join(root, layout.manifest(r.id)) };
  };

  const attempt = async (t: Test, root: string, identity: string, code: string, trusted?: string[]) => {
    const target = await createTestDatabase(t, { empty: true });
    const dbsBefore = await databases();
    const s = trusted ? new RestoreService(backupTools(f.config), createLogger('silent'), trusted) : svc;
    await t.rejects(
      restoreBackup(s, new DirectoryStore('file', root, { requireMount: false, readOnly: true }), identity, { workDir: work, adminUrl: adminUrl(), database: target.name, targetUrl: target.url }),
      { code },
      `refused with ${code}`,
    );
    t.same(await fingerprint(target.url), {}, 'target database untouched (still empty)');
    t.same(await databases(), dbsBefore, 'no database created or dropped');
    // and the swap mode does not create a scratch database either
    await t.rejects(
      restoreBackup(s, new DirectoryStore('file', root, { requireMount: false, readOnly: true }), identity, { workDir: work, adminUrl: adminUrl(), database: target.name }),
      { code },
    );
    t.same(await databases(), dbsBefore, 'swap mode refused before creating anything');
  };

  await t.test('truncated', async (t) => {
    const c = copy('trunc');
    truncateSync(c.dump, statSync(c.dump).size - 100);
    await attempt(t, c.root, f.drill.identity, 'restore_checksum_mismatch');
  });
  await t.test('bit flipped', async (t) => {
    const c = copy('flip');
    const buf = readFileSync(c.dump);
    buf[Math.floor(buf.length / 2)]! ^= 0x01;
    writeFileSync(c.dump, buf);
    await attempt(t, c.root, f.drill.identity, 'restore_checksum_mismatch');
  });
  await t.test('wrong key', async (t) => {
    const c = copy('key');
    const other = ageKeyPair(tempDir(t), 'stranger');
    await attempt(t, c.root, other.identity, 'restore_wrong_key');
  });
  await t.test('manifest signed by another key', async (t) => {
    const c = copy('signer');
    const doc = JSON.parse(readFileSync(c.manifest, 'utf8'));
    const mallory = SigningKey.loadOrCreate(new SecretStore(tempDir(t)));
    writeFileSync(c.manifest, JSON.stringify(signDocument(doc.payload, mallory)));
    await attempt(t, c.root, f.drill.identity, 'signature_untrusted');
  });
  await t.test('manifest altered after signing', async (t) => {
    const c = copy('altered');
    const doc = JSON.parse(readFileSync(c.manifest, 'utf8'));
    doc.payload.tables[0].rows += 1;
    writeFileSync(c.manifest, JSON.stringify(doc));
    await attempt(t, c.root, f.drill.identity, 'signature_invalid');
  });
  await t.test('forged manifest signed by the attacker, presented with the attacker key pinned as another', async (t) => {
    const c = copy('pinned');
    const mallory = SigningKey.loadOrCreate(new SecretStore(tempDir(t)));
    const doc = JSON.parse(readFileSync(c.manifest, 'utf8'));
    writeFileSync(c.manifest, JSON.stringify(signDocument(doc.payload, mallory)));
    // a drill host pinning the appliance key refuses a manifest signed by anyone else
    await attempt(t, c.root, f.drill.identity, 'signature_untrusted', [SigningKey.loadOrCreate(f.secrets).publicId]);
  });
});

