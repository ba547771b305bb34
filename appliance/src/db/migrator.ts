import type { DataSource } from 'typeorm';

/** Advisory lock key for schema changes: one migrator at a time across processes. */
export const MIGRATION_LOCK_KEY = 0x0ff1c1e;

/**
 * Runs `fn` while holding a session-level advisory lock on a dedicated connection,
 * so two processes starting together never migrate concurrently.
 */
async function withMigrationLock<T>(ds: DataSource, fn: () => Promise<T>): Promise<T> {
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await fn();
    } finally {
      await qr.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await qr.release();
  }
}

/** Applies every pending migration; returns the names applied. */
export async function migrateUp(ds: DataSource): Promise<string[]> {
  return withMigrationLock(ds, async () => {
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  });
}

/** Reverts the last `steps` migrations (all of them with Infinity); returns the count reverted. */
export async function migrateDown(ds: DataSource, steps: number): Promise<number> {
  return withMigrationLock(ds, async () => {
    let n = 0;
    while (n < steps) {
      const rows: { c: string }[] = await ds.query(
        `SELECT count(*)::text AS c FROM information_schema.tables WHERE table_name = 'schema_migrations'`,
      );
      if (rows[0]?.c === '0') break;
      const count: { c: string }[] = await ds.query('SELECT count(*)::text AS c FROM schema_migrations');
      if (count[0]?.c === '0') break;
      await ds.undoLastMigration({ transaction: 'each' });
      n++;
    }
    return n;
  });
}

/** Names of migrations known to the code but not applied to the database. */
export async function pendingMigrations(ds: DataSource): Promise<string[]> {
  const exists: { c: string }[] = await ds.query(
    `SELECT count(*)::text AS c FROM information_schema.tables WHERE table_name = 'schema_migrations'`,
  );
  const applied = new Set<string>();
  if (exists[0]?.c !== '0') {
    const rows: { name: string }[] = await ds.query('SELECT name FROM schema_migrations');
    for (const r of rows) applied.add(r.name);
  }
  return ds.migrations.map((m) => m.name).filter((n): n is string => !!n && !applied.has(n));
}
