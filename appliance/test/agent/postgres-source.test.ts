import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pgLib from 'pg';
import t from 'tap';
import { REFERENCE_COLUMNS, REFERENCE_SCHEMA_SQL, referenceRows, writeReferenceSqlite } from '../../../agent/src/reference/reference-lgo.js';
import { AgentStore } from '../../../agent/src/store/agent-store.js';
import { runPreview } from '../../../agent/src/sync/preview.js';
import { tempDir } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';

t.test('PostgreSQL LGO source: read-only session, same records as the SQLite one', async (t) => {
  const db = await createTestDatabase(t, { empty: true });
  const c = new pgLib.Client({ connectionString: db.url });
  await c.connect();
  t.teardown(() => c.end());
  await c.query(REFERENCE_SCHEMA_SQL.replace(/REAL/g, 'double precision'));
  const opts = { saleLines: 1500, products: 40, purchaseLines: 60 };
  for (const [table, row] of referenceRows(opts)) {
    const cols = REFERENCE_COLUMNS[table]!;
    await c.query(`INSERT INTO ${table} (${cols.join(',')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(',')})`, row);
  }
  const dir = tempDir(t, 'officine-agent-pg-');
  await writeReferenceSqlite(join(dir, 'lgo', 'lgo.db'), opts);
  const state = new AgentStore(join(dir, 'agent')).readState();
  const base = { profile: 'reference', batchSize: 500, pollSeconds: 60, maxSpoolMB: 10 };
  const pgSummary = await runPreview({ ...base, source: { kind: 'postgres', url: db.url }, roots: [] }, state, join(dir, 'pg.jsonl'));
  const liteSummary = await runPreview({ ...base, source: { kind: 'sqlite', path: join(dir, 'lgo', 'lgo.db') }, roots: [join(dir, 'lgo')] }, state, join(dir, 'lite.jsonl'));
  t.same(
    pgSummary.tables.map((x) => [x.entity, x.read, x.sent, x.refused]),
    liteSummary.tables.map((x) => [x.entity, x.read, x.sent, x.refused]),
    'same tables and counts',
  );
  const sorted = (f: string) => readFileSync(join(dir, f), 'utf8').trim().split('\n').sort();
  t.same(sorted('pg.jsonl'), sorted('lite.jsonl'), 'identical records from both drivers');

  const { PostgresConnector } = await import('../../../agent/src/connectors/postgres.connector.js');
  const conn = await PostgresConnector.open(db.url);
  const pool = (conn as unknown as { pool: pgLib.Pool }).pool;
  await t.rejects(pool.query(`DELETE FROM ventes_lignes`), /read-only transaction/, 'the agent’s session cannot write');
  await conn.close();
});
