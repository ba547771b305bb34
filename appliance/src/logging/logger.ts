import { createHash } from 'node:crypto';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values are never written to a log, wherever they appear. */
const REDACT_KEYS = [
  'password', 'newPassword', 'currentPassword', 'token', 'accessToken', 'refreshToken',
  'secret', 'totp', 'code', 'cookie', 'authorization', 'apiKey', 'privateKey', 'identity',
];
const REDACT_PATHS = [
  ...REDACT_KEYS,
  ...REDACT_KEYS.map((k) => `*.${k}`),
  ...REDACT_KEYS.map((k) => `*.*.${k}`),
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
];

/** Stable, non-reversible stand-in for an email address in logs (correlation without disclosure). */
export function hashEmail(email: string): string {
  return 'email:' + createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 16);
}

const EMAIL_RE = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/** Replaces any email address inside a value (strings, nested objects) by its hash. */
function scrubEmails(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(EMAIL_RE, (m) => hashEmail(m));
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubEmails(v, depth + 1));
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubEmails(v, depth + 1);
  return out;
}

/**
 * Creates the process logger: JSON lines on stdout, UTC ISO timestamps, secrets
 * redacted by key and email addresses hashed wherever they appear.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'officine' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => scrubEmails(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // Scrub emails from the message string too.
          const scrubbed = args.map((a) => (typeof a === 'string' ? (scrubEmails(a) as string) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** The logger every module uses unless handed another (tests inject their own). */
export const logger: Logger = createLogger();
