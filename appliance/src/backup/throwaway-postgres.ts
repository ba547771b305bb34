import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEmbeddedPostgres } from '../db/embedded-postgres.js';

/** A PostgreSQL that exists for one drill or one point-in-time recovery, then vanishes. */
export interface ThrowawayPostgres {
  adminUrl: string;
  dir: string;
  stop(): Promise<void>;
}

/** A free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Starts a fresh cluster from the embedded-postgres binaries in a temp dir, on a
 * random loopback port with a random password, and deletes it all on stop. With
 * `dataDir` it starts an existing data directory instead (a restored base backup).
 */
export async function startThrowawayPostgres(opts: { parent?: string; dataDir?: string; port?: number; flags?: string[] } = {}): Promise<ThrowawayPostgres> {
  const asRoot = process.getuid?.() === 0;
  // As root, PostgreSQL runs as `postgres`, which must be able to traverse the parent.
  const parent = opts.parent && (!asRoot || (statSync(opts.parent).mode & 0o001) !== 0) ? opts.parent : tmpdir();
  const dir = mkdtempSync(join(parent, 'officine-throwaway-'));
  if (asRoot) chmodSync(dir, 0o711);
  const password = randomBytes(18).toString('base64url');
  const logs: string[] = [];
  const port = opts.port ?? (await freePort());
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir ?? join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--no-locale'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'archive_mode=off', ...(opts.flags ?? [])],
    onLog: (m) => void logs.push(m),
    onError: () => undefined,
  });
  try {
    if (!opts.dataDir) await pg.initialise();
    await pg.start();
  } catch (err) {
    await pg.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw new Error('throwaway PostgreSQL did not start', { cause: err ?? logs.slice(-5).join('') });
  }
  return {
    adminUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    dir,
    async stop() {
      await pg.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
