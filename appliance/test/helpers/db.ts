import { randomBytes } from 'node:crypto';
import pgLib from 'pg';
import type { Test } from 'tap';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source.js';

/** Admin URL and template of the run's PostgreSQL (set by scripts/test.mjs). */
export function testPgEnv(): { adminUrl: string; template: string } {
  const adminUrl = process.env.OFFICINE_TEST_PG_ADMIN_URL;
  const template = process.env.OFFICINE_TEST_PG_TEMPLATE;
  if (!adminUrl || !template) {
    throw new Error('OFFICINE_TEST_PG_ADMIN_URL is not set: run tests through `npm test` (scripts/test.mjs)');
  }
  return { adminUrl, template };
}

/** URL of database `name` on the test server. */
export function testDbUrl(name: string): string {
  const url = new URL(testPgEnv().adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (c: pgLib.Client) => Promise<T>): Promise<T> {
  const c = new pgLib.Client({ connectionString: testPgEnv().adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/**
 * A fresh database for one test (file): a clone of the migrated template, dropped at
 * teardown. `empty: true` gives an unmigrated database instead.
 */
export async function createTestDatabase(t: Test, opts: { empty?: boolean } = {}): Promise<{ name: string; url: string }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const { template } = testPgEnv();
  await admin((c) => c.query(opts.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${template}`));
  t.teardown(() => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined));
  return { name, url: testDbUrl(name) };
}

/** A TypeORM data source on a fresh cloned database, destroyed at teardown. */
export async function createTestDataSource(t: Test, opts: { empty?: boolean } = {}): Promise<{ ds: DataSource; url: string; name: string }> {
  const db = await createTestDatabase(t, opts);
  const ds = createDataSource(db.url, { poolSize: 4 });
  await ds.initialize();
  t.teardown(async () => {
    if (ds.isInitialized) await ds.destroy();
  });
  return { ds, ...db };
}
