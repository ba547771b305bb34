import { DataSource } from 'typeorm';
import { migrations } from './migrations/index.js';
import { entities } from './entities.js';

/**
 * Builds the TypeORM data source. `synchronize` is never on: the schema only
 * changes through the hand-written migrations in ./migrations.
 */
export function createDataSource(url: string, opts: { poolSize?: number; applicationName?: string } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    logging: false,
    poolSize: opts.poolSize ?? 10,
    applicationName: opts.applicationName ?? 'officine-appliance',
    extra: { options: '-c timezone=UTC' },
  });
}
