import t from 'tap';
import type { DataSource } from 'typeorm';
import { migrations } from '../../src/db/migrations/index.js';
import { AgentChannel1763740000000 } from '../../src/db/migrations/1763740000000-agent-channel.js';
import { DropAgentStagedRows1763790005000 } from '../../src/db/migrations/1763790005000-drop-agent-staged-rows.js';
import { migrateDown } from '../../src/db/migrator.js';
import { createTestDataSource } from '../helpers/db.js';

/** Columns, constraints and indexes of a table, as PostgreSQL reports them. */
async function describeTable(ds: DataSource, table: string): Promise<unknown> {
  const columns = await ds.query(
    `SELECT column_name, data_type, is_nullable, column_default, ordinal_position FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  const constraints = await ds.query(`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass ORDER BY conname`, [table]);
  const indexes = await ds.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1 ORDER BY indexname`, [table]);
  return { columns, constraints, indexes };
}

const exists = async (ds: DataSource, table: string) => ((await ds.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [`public.${table}`])) as { e: boolean }[])[0]!.e;

t.test('agent_staged_rows: nothing uses it, up drops it, down recreates it exactly', async (t) => {
  t.equal(migrations.at(-1), DropAgentStagedRows1763790005000, 'the drop is the last migration');

  // The table as the agent-channel migration created it: migrations applied by hand up to that one.
  const { ds: original } = await createTestDataSource(t, { empty: true });
  const qr = original.createQueryRunner();
  for (const M of migrations.slice(0, migrations.indexOf(AgentChannel1763740000000) + 1)) await new M().up(qr);
  await qr.release();
  const expected = await describeTable(original, 'agent_staged_rows');
  t.ok(((expected as { columns: unknown[] }).columns).length === 7, 'the original table has its 7 columns');

  const { ds } = await createTestDataSource(t);
  t.notOk(await exists(ds, 'agent_staged_rows'), 'absent once every migration is applied');
  t.equal(await migrateDown(ds, 1), 1);
  t.ok(await exists(ds, 'agent_staged_rows'), 'down recreates it');
  t.same(await describeTable(ds, 'agent_staged_rows'), expected, 'with the same columns, constraints and indexes');
});
