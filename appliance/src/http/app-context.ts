import type { DataSource } from 'typeorm';
import type { Config } from '../config/config.js';
import type { SecretStore } from '../config/secrets.js';
import type { Logger } from '../logging/logger.js';

/**
 * What the HTTP app and services receive instead of reaching for globals: config,
 * the database, the logger, the secrets and a clock (so tests can move time).
 */
export interface AppContext {
  config: Config;
  db: DataSource;
  logger: Logger;
  secrets: SecretStore;
  clock: { now(): Date };
  /** Application version, for health and status. */
  version: string;
}

/** Per-request state that middleware fills in, typed once for every route. */
export interface RequestState {
  requestId: string;
  clientIp: string;
}
