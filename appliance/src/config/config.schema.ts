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

  // Identity and sessions (auth/).
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(900).default(600),
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
  SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).max(7 * 24).default(12),
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(30).default(5),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(3).max(20).default(5),
  LOGIN_LOCK_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
  RATE_LIMIT_READS_PER_MIN: z.coerce.number().int().min(1).default(1000),
  RATE_LIMIT_WRITES_PER_MIN: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_PUBLIC_PER_MIN: z.coerce.number().int().min(1).default(5),

  // Outgoing email (nodemailer). Without SMTP_HOST, messages are written to DATA_DIR/outbox.
  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
  SMTP_TLS: z.enum(['starttls', 'tls', 'none']).default('starttls'),
  SMTP_USER: z.string().min(1).optional(),
  /** File (0600) holding the SMTP password; never the password itself in the environment. */
  SMTP_PASSWORD_FILE: z.string().min(1).optional(),
  MAIL_FROM: z.string().min(3).default('Officine Appliance <no-reply@officine.invalid>'),
});

export type RawConfig = z.infer<typeof configSchema>;
