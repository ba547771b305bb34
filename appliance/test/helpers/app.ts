import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { loadConfig } from '../../src/config/config.js';
import { SecretStore } from '../../src/config/secrets.js';
import { APP_VERSION } from '../../src/config/version.js';
import type { AppContext } from '../../src/http/app-context.js';
import { startHttpServer } from '../../src/http/server.js';
import type { AppOptions } from '../../src/http/app.js';
import { createLogger } from '../../src/logging/logger.js';
import { createTestDataSource } from './db.js';
import { testLogDestination } from './log-scan.js';

/** A temp directory removed at teardown. */
export function tempDir(t: Test, prefix = 'officine-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestApp {
  url: string;
  app: AppContext;
  /** fetch() against the app, relative to its base URL. */
  request(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * Starts the real app (every middleware, real PostgreSQL clone) on an ephemeral
 * loopback port for real HTTP requests. `env` overrides configuration keys.
 */
export async function startTestApp(t: Test, env: Record<string, string> = {}, opts: AppOptions = {}): Promise<TestApp> {
  const { ds, url: dbUrl } = await createTestDataSource(t);
  const dataDir = tempDir(t, 'officine-data-');
  const config = loadConfig({
    envFile: '/dev/null',
    env: { NODE_ENV: 'test', PORT: '0', DATABASE_URL: dbUrl, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env },
  });
  const logDestination = testLogDestination();
  const app: AppContext = {
    config,
    db: ds,
    // Under scripts/test.mjs the app logs at debug level into the run's log directory,
    // which the final minimisation check scans for plain emails and names.
    logger: logDestination ? createLogger(env.LOG_LEVEL ?? 'debug', logDestination) : createLogger(config.LOG_LEVEL),
    secrets: new SecretStore(config.secretsDir),
    clock: { now: () => new Date() },
    version: APP_VERSION,
  };
  const srv = await startHttpServer(app, opts);
  t.teardown(() => srv.close());
  return { url: srv.url, app, request: (path, init) => fetch(srv.url + path, { redirect: 'manual', ...init }) };
}
