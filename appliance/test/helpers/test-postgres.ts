import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pgLib from 'pg';
import { SecretStore } from '../../src/config/secrets.js';
import { createDataSource } from '../../src/db/data-source.js';
import { startEmbeddedPostgres, type EmbeddedCluster } from '../../src/db/embedded-postgres.js';
import { migrateUp } from '../../src/db/migrator.js';
import { createLogger } from '../../src/logging/logger.js';

export const TEMPLATE_DB = 'officine_template';

/**
 * Global test setup (scripts/test.mjs): one real PostgreSQL for the whole run — an
 * embedded cluster in a temp dir, or $DATABASE_URL's server — and a template database
 * migrated once, which each test file clones.
 */
export async function startTestPostgres(opts: { port: number }): Promise<{ adminUrl: string; template: string; stop(): Promise<void> }> {
  let cluster: EmbeddedCluster | undefined;
  let dir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dir = mkdtempSync(join(process.env.OFFICINE_TEST_TMP ?? tmpdir(), 'officine-test-pg-'));
    cluster = await startEmbeddedPostgres({
      dir: join(dir, 'pg'),
      port: opts.port,
      secrets: new SecretStore(join(dir, 'secrets')),
      logger: createLogger('silent'),
    });
    adminUrl = cluster.adminUrl;
  }
  const admin = new pgLib.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${TEMPLATE_DB}`;
  const ds = createDataSource(url.toString(), { poolSize: 2 });
  await ds.initialize();
  await migrateUp(ds);
  await ds.destroy();
  return {
    adminUrl,
    template: TEMPLATE_DB,
    async stop() {
      await cluster?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
