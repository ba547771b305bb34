import { resolve } from 'node:path';
import { configSchema, type RawConfig } from './config.schema.js';
import { readEnvFile } from './env-file.js';

export const DEFAULT_ENV_FILE = '/etc/officine/appliance.env';

/** Validated configuration with derived absolute paths. */
export interface Config extends RawConfig {
  dataDir: string;
  secretsDir: string;
  /** Env file actually read, for `appliance status`. */
  envFile: string | undefined;
}

/** Thrown when one or more settings are invalid; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** Explicit env file (from --env-file): must exist. */
  envFile?: string | undefined;
  /** Environment to read, for tests; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Loads the configuration: env file first, then the process environment on top
 * (so systemd or a shell can override a file value), then validation. Never returns
 * a partially valid config.
 */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const explicit = opts.envFile ?? env.OFFICINE_ENV_FILE;
  const envFile = explicit ?? DEFAULT_ENV_FILE;
  let fileValues: Record<string, string>;
  try {
    fileValues = readEnvFile(envFile, explicit !== undefined);
  } catch (err) {
    throw new ConfigError([`env file ${envFile}: ${(err as Error).message}`]);
  }
  const merged: Record<string, unknown> = { ...fileValues };
  for (const key of Object.keys(configSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') merged[key] = v;
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const raw = parsed.data;
  const dataDir = resolve(raw.DATA_DIR);
  return {
    ...raw,
    dataDir,
    secretsDir: resolve(raw.SECRETS_DIR ?? resolve(dataDir, 'secrets')),
    envFile: Object.keys(fileValues).length > 0 || explicit ? envFile : undefined,
  };
}
