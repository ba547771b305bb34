import pgLib from 'pg';
import t from 'tap';
import { listForeignKeys, countRows } from '../../src/backup/db-inventory.js';
import { RestoreService } from '../../src/backup/restore.service.js';
import { createLogger } from '../../src/logging/logger.js';
import { createTestDatabase } from '../helpers/db.js';

// The restore trusts PostgreSQL's own validation of the foreign keys pg_restore
// created (convalidated), but never a key left NOT VALID: that one is re-checked
// against the data. The drill re-checks every key regardless.
t.test('restore check: validated keys trusted, NOT VALID keys re-checked, the drill checks all', async (t) => {
  const db = await createTestDatabase(t, { empty: true });
  const c = new pgLib.Client({ connectionString: db.url });
  await c.connect();
  t.teardown(() => c.end());
  await c.query(`CREATE TABLE parent (id int PRIMARY KEY)`);
  await c.query(`CREATE TABLE child_ok (id int PRIMARY KEY, parent_id int REFERENCES parent(id))`);
  await c.query(`CREATE TABLE child_loose (id int PRIMARY KEY, parent_id int)`);
  await c.query(`INSERT INTO parent VALUES (1), (2); INSERT INTO child_ok VALUES (1, 1), (2, 2); INSERT INTO child_loose VALUES (1, 1), (2, 99)`);
  await c.query(`ALTER TABLE child_loose ADD CONSTRAINT child_loose_parent_fk FOREIGN KEY (parent_id) REFERENCES parent(id) NOT VALID`);
  const manifest = { tables: await countRows(c), foreignKeys: await listForeignKeys(c) };
  t.equal(manifest.foreignKeys.length, 2);

  const svc = new RestoreService({ pgDump: 'pg_dump', pgRestore: 'pg_restore', pgBasebackup: 'pg_basebackup', age: 'age', zstd: 'zstd' } as never, createLogger('silent'), []);
  const restore = await svc.check(db.url, manifest, { trustValidated: true });
  t.same(restore.violatedForeignKeys, [{ name: 'public.child_loose.child_loose_parent_fk', rows: 1 }], 'the NOT VALID key is re-checked and its orphan found');
  t.notOk(restore.ok);

  // A validated key whose data was broken behind PostgreSQL's back (triggers off):
  // only the drill's own query can see it.
  await c.query(`ALTER TABLE child_loose DROP CONSTRAINT child_loose_parent_fk; DELETE FROM child_loose WHERE parent_id = 99`);
  await c.query(`SET session_replication_role = replica; DELETE FROM parent WHERE id = 2; SET session_replication_role = DEFAULT`);
  const m2 = { tables: await countRows(c), foreignKeys: await listForeignKeys(c) };
  t.ok((await svc.check(db.url, m2, { trustValidated: true })).ok, 'restore: the validated key is taken on PostgreSQL’s word');
  const drill = await svc.check(db.url, m2);
  t.same(drill.violatedForeignKeys, [{ name: 'public.child_ok.child_ok_parent_id_fkey', rows: 1 }], 'the drill re-checks every key and finds the orphan');
});
