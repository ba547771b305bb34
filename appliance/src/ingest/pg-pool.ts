import type pg from 'pg';
import type { DataSource } from 'typeorm';

/**
 * The pg pool behind a TypeORM data source: COPY streams need a raw pg client,
 * and taking it from the same pool keeps one set of connections and settings.
 */
export function pgPoolOf(ds: DataSource): pg.Pool {
  const pool = (ds.driver as unknown as { master?: pg.Pool }).master;
  if (!pool) throw new Error('data source is not an initialised PostgreSQL data source');
  return pool;
}
