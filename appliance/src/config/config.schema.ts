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
  /** Agent channel: allowed clock skew of a message's timestamp. */
  AGENT_MAX_SKEW_SECONDS: z.coerce.number().int().min(10).max(86_400).default(300),
  /** Agent channel: key epoch lifetime; an agent's epoch rotates when it is older. */
  AGENT_EPOCH_HOURS: z.coerce.number().min(0.001).max(8_760).default(168),
  /** Agent channel: lifetime of a one-time enrolment code. */
  AGENT_ENROL_CODE_TTL_HOURS: z.coerce.number().min(0.01).max(720).default(24),
  /** Agent channel: largest sealed message accepted. */
  AGENT_MAX_MESSAGE_KB: z.coerce.number().int().min(16).max(262_144).default(32_768),
});

export type RawConfig = z.infer<typeof configSchema>;
