import pgLib from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../appliance/src/db/data-source.js';
import { startTestPostgres } from '../../appliance/test/helpers/test-postgres.js';
import { freePort } from '../../appliance/src/backup/throwaway-postgres.js';

export { freePort };


/** A bench's own embedded PostgreSQL with a migrated template; `database()` clones it. */
export interface BenchPostgres {
  database(name: string): Promise<DataSource>;
  stop(): Promise<void>;
}

/** Starts an embedded PostgreSQL in a temp dir (removed by `stop`), migrates a template once. */
export async function startBenchPostgres(): Promise<BenchPostgres> {
  const pg = await startTestPostgres({ port: await freePort() });
  const open: DataSource[] = [];
  // An interrupted bench still stops its PostgreSQL and removes its directory.
  const onSignal = () => void pg.stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    async database(name: string) {
      const admin = new pgLib.Client({ connectionString: pg.adminUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${pg.template}`);
      await admin.end();
      const url = new URL(pg.adminUrl);
      url.pathname = `/${name}`;
      const ds = createDataSource(url.toString(), { poolSize: 4 });
      await ds.initialize();
      open.push(ds);
      return ds;
    },
    async stop() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      for (const ds of open) if (ds.isInitialized) await ds.destroy();
      await pg.stop();
    },
  };
}
