import { z } from 'zod';

const LOOPBACK = ['127.0.0.1', '::1', 'localhost'];

const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

/**
 * The one typed description of every setting the appliance reads from its
 * environment. Anything not here is not configurable; anything here is validated
 * before the process does any work.
 */
export const configSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  HOST: z
    .string()
    .default('127.0.0.1')
    .refine((h) => LOOPBACK.includes(h), 'must be a loopback address: only Caddy listens beyond loopback'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./var'),
  SECRETS_DIR: z.string().min(1).optional(),
  PUBLIC_URL: z.url('must be an absolute URL').default('http://127.0.0.1:8080'),
  TRUSTED_PROXIES: csv.default(['127.0.0.1', '::1']),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_KB: z.coerce.number().int().min(1).max(65536).default(1024),
  SECURITY_CONTACT: z
    .string()
    .regex(/^(mailto:|https:\/\/)/, 'must start with mailto: or https://')
    .default('mailto:security@officine.invalid'),
  SECURITY_POLICY_URL: z.url().optional(),
  SECURITY_TXT_EXPIRES: z.iso.datetime({ offset: true }).optional(),

  // --- Releases and upgrades (appliance/src/upgrade) ---
  /** Holds releases/<version>/ and the `current` symlink (install.sh creates it). */
  INSTALL_DIR: z.string().min(1).default('/opt/officine'),
  /** Pinned Ed25519 release keys (JSON key list); a bundle signed by any other key is refused. */
  RELEASE_KEYS_FILE: z.string().min(1).default('/etc/officine/release-keys.json'),
  UPGRADE_MAX_BUNDLE_MB: z.coerce.number().int().min(1).max(8192).default(512),
  UPGRADE_MAX_UNPACKED_MB: z.coerce.number().int().min(1).max(16384).default(2048),
  UPGRADE_MAX_FILES: z.coerce.number().int().min(1).max(1_000_000).default(100_000),
  /** How long the health gate waits for /readyz after the switch before rolling back. */
  UPGRADE_HEALTH_TIMEOUT_S: z.coerce.number().int().min(5).max(600).default(60),
  /** How services are stopped/started around an upgrade: systemd units, or commands (Docker, no-systemd hosts). */
  SERVICE_MANAGER: z.enum(['systemd', 'command']).default('systemd'),
  SERVICE_STOP_COMMAND: z.string().min(1).optional(),
  SERVICE_START_COMMAND: z.string().min(1).optional(),
});

export type RawConfig = z.infer<typeof configSchema>;
