import t from 'tap';
import { createDataSource } from '../../src/db/data-source.js';
import { migrations } from '../../src/db/migrations/index.js';
import { migrateDown, migrateUp, pendingMigrations } from '../../src/db/migrator.js';
import { createTestDatabase } from '../helpers/db.js';

const userTables = async (ds: ReturnType<typeof createDataSource>) =>
  ((await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)) as { table_name: string }[]).map(
    (r) => r.table_name,
  );

t.test('migrations go up from empty and down to empty', async (t) => {
  const db = await createTestDatabase(t, { empty: true });
  const ds = createDataSource(db.url, { poolSize: 2 });
  await ds.initialize();
  t.teardown(() => ds.destroy());

  t.same(await userTables(ds), [], 'starts empty');
  t.equal((await pendingMigrations(ds)).length, migrations.length, 'all pending');
  const applied = await migrateUp(ds);
  t.equal(applied.length, migrations.length, 'all applied');
  t.same(await pendingMigrations(ds), [], 'none pending');
  t.ok((await userTables(ds)).includes('pharmacies'), 'schema created');
  t.same(await migrateUp(ds), [], 'second run is a no-op');

  const reverted = await migrateDown(ds, Infinity);
  t.equal(reverted, migrations.length, 'every migration reverted');
  t.same(await userTables(ds), ['schema_migrations'], 'only the bookkeeping table remains');
  t.equal((await pendingMigrations(ds)).length, migrations.length);

  await migrateUp(ds);
  t.same(await pendingMigrations(ds), [], 'and up again');
});

t.test('concurrent migrators are serialised by the advisory lock', async (t) => {
  const db = await createTestDatabase(t, { empty: true });
  const a = createDataSource(db.url, { poolSize: 2 });
  const b = createDataSource(db.url, { poolSize: 2 });
  await Promise.all([a.initialize(), b.initialize()]);
  t.teardown(() => Promise.all([a.destroy(), b.destroy()]).then(() => undefined));
  const [ra, rb] = await Promise.all([migrateUp(a), migrateUp(b)]);
  t.equal(ra.length + rb.length, migrations.length, 'each migration applied exactly once');
});
