import t from 'tap';
import { CLUSTER_SETTINGS } from '../../src/backup/wal-settings.js';
import { createDataSource } from '../../src/db/data-source.js';
import { migrations } from '../../src/db/migrations/index.js';
import { migrateDown, migrateUp, pendingMigrations } from '../../src/db/migrator.js';
import { createTestDatabase, createTestDataSource } from '../helpers/db.js';

const userTables = async (ds: ReturnType<typeof createDataSource>) =>
  ((await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)) as { table_name: string }[]).map(
    (r) => r.table_name,
  );

/** Everything user-made in the database besides tables: functions, types, sequences, views, triggers, extensions. */
const otherObjects = async (ds: ReturnType<typeof createDataSource>) =>
  ((await ds.query(`
    SELECT 'function ' || p.proname AS o FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
    UNION ALL SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)
    UNION ALL SELECT 'sequence ' || sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public'
    UNION ALL SELECT 'view ' || table_name FROM information_schema.views WHERE table_schema = 'public'
    UNION ALL SELECT 'matview ' || matviewname FROM pg_matviews WHERE schemaname = 'public'
    UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'
    UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
    ORDER BY 1`)) as { o: string }[]).map((r) => r.o);

t.test('migrations go up from empty and down to empty', async (t) => {
  const db = await createTestDatabase(t, { empty: true });
  const ds = createDataSource(db.url, { poolSize: 2 });
  await ds.initialize();
  t.teardown(() => ds.destroy());

  t.same(await userTables(ds), [], 'starts empty');
  const objectsBefore = await otherObjects(ds);
  t.equal((await pendingMigrations(ds)).length, migrations.length, 'all pending');
  const applied = await migrateUp(ds);
  t.equal(applied.length, migrations.length, 'all applied');
  t.same(await pendingMigrations(ds), [], 'none pending');
  t.ok((await userTables(ds)).includes('pharmacies'), 'schema created');
  t.same(await migrateUp(ds), [], 'second run is a no-op');

  const reverted = await migrateDown(ds, Infinity);
  t.equal(reverted, migrations.length, 'every migration reverted');
  t.same(await userTables(ds), ['schema_migrations'], 'only the bookkeeping table remains');
  const bookkeeping = 'sequence schema_migrations_id_seq'; // TypeORM's migrations table id
  t.same((await otherObjects(ds)).filter((o) => o !== bookkeeping), objectsBefore, 'no function, type, view, trigger, extension or schema left behind');
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

t.test('the embedded cluster runs with the production cluster settings (CLUSTER_SETTINGS)', async (t) => {
  const { ds } = await createTestDataSource(t);
  for (const [name, value] of Object.entries(CLUSTER_SETTINGS)) {
    t.same(await ds.query(`SELECT current_setting($1) AS v`, [name]), [{ v: value }], `${name} = ${value}`);
  }
});
