import pino from 'pino';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { SecretStore } from '../config/secrets.js';
import { APP_VERSION } from '../config/version.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrateUp } from '../db/migrator.js';
import type { AppContext } from '../http/app-context.js';
import { describeError } from '../http/errors.js';
import { createLogger, type Logger } from '../logging/logger.js';

/** Logs of operator commands go to stderr, so stdout stays the command's answer (`--json` stays parseable). */
export function cliLogger(level: string): Logger {
  return createLogger(level, pino.destination({ fd: 2, sync: true }));
}

/** Options every command accepts. */
export interface GlobalOptions {
  envFile?: string;
}

/**
 * Loads the configuration or exits with status 2 after printing every problem:
 * an operator fixes all of them in one pass, not one per restart.
 */
export function loadConfigOrExit(opts: GlobalOptions, overrides: NodeJS.ProcessEnv = {}): Config {
  try {
    return loadConfig({ envFile: opts.envFile, env: { ...process.env, ...overrides } });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Configuration invalide (${err.problems.length} problème(s)) :\n`);
      for (const p of err.problems) process.stderr.write(`  - ${p}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** A fully wired runtime: config, logger, secrets, database (migrated) and the app context. */
export interface Runtime {
  app: AppContext;
  database: Database;
  close(): Promise<void>;
}

/** Opens the database, migrates it under the advisory lock, and builds the app context. */
export async function openRuntime(config: Config, logger: Logger = createLogger(config.LOG_LEVEL), opts: { migrate?: boolean } = {}): Promise<Runtime> {
  const secrets = new SecretStore(config.secretsDir);
  const database = await openDatabase(config, secrets, logger);
  try {
    if (opts.migrate !== false) {
      const applied = await migrateUp(database.ds);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    }
  } catch (err) {
    await database.close();
    throw err;
  }
  const app: AppContext = { config, db: database.ds, logger, secrets, clock: { now: () => new Date() }, version: APP_VERSION };
  return { app, database, close: () => database.close() };
}

/** Runs `stop` once on SIGINT/SIGTERM, then exits 0 (or 1 if stopping failed). */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => handler('SIGINT'));
  process.once('SIGTERM', () => handler('SIGTERM'));
}

/** Prints an error for an operator (French: `code: message` for our errors) and exits non-zero; internals go to the log only. */
export function fail(logger: Logger, err: unknown, message: string): never {
  logger.error({ err }, message);
  process.stderr.write(`Erreur : ${message}\n${err instanceof Error ? `  (${describeError(err)})\n` : ''}`);
  process.exit(1);
}
