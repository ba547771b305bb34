import type { AppContext } from '../http/app-context.js';
import { RateLimits } from '../http/rate-limit.js';
import { createMailer, type Mailer } from '../mail/mailer.js';
import { AccessTokenCodec } from './access-token.js';

/** Name of the JWT signing key in the secrets directory (256 random bits, 0600). */
export const JWT_KEY_SECRET = 'jwt-signing-key';

/**
 * The long-lived pieces the route framework needs for one app: the token codec
 * (key from the secrets dir), the PostgreSQL-backed rate limits and the mailer.
 * Built once per AppContext, on first use; tests may install a replacement.
 */
export interface AuthRuntime {
  tokens: AccessTokenCodec;
  limits: RateLimits;
  mailer: Mailer;
  /** PUBLIC_URL's origin: what the UI and tests send. */
  publicOrigin: string;
  /** The Origins accepted on state-changing requests (publicOrigin, see acceptedOrigins). */
  publicOrigins: ReadonlySet<string>;
}

const runtimes = new WeakMap<AppContext, AuthRuntime>();

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * PUBLIC_URL's origin; when that is a loopback address (the demo, a developer's
 * machine), its other loopback spellings on the same scheme and port too: a person
 * who types http://localhost:8080 for http://127.0.0.1:8080 reaches the same process,
 * and no other site can own a loopback origin of this machine. Any other deployment
 * accepts exactly one origin.
 */
export function acceptedOrigins(publicUrl: string): ReadonlySet<string> {
  const u = new URL(publicUrl);
  if (!LOOPBACK_HOSTS.includes(u.hostname)) return new Set([u.origin]);
  return new Set(LOOPBACK_HOSTS.map((h) => `${u.protocol}//${h}${u.port ? `:${u.port}` : ''}`));
}

/** The runtime of an app (created on first call). */
export function authRuntime(app: AppContext): AuthRuntime {
  let rt = runtimes.get(app);
  if (!rt) {
    const key = Buffer.from(app.secrets.get(JWT_KEY_SECRET, { generate: 32 }).toString('utf8').trim(), 'base64');
    rt = {
      tokens: new AccessTokenCodec(key, app.clock, app.config.ACCESS_TOKEN_TTL_SECONDS),
      limits: new RateLimits(app.db, app.config),
      mailer: createMailer(app.config),
      publicOrigin: new URL(app.config.PUBLIC_URL).origin,
      publicOrigins: acceptedOrigins(app.config.PUBLIC_URL),
    };
    runtimes.set(app, rt);
  }
  return rt;
}

/** Replaces parts of an app's runtime (tests: a fake mailer). */
export function overrideAuthRuntime(app: AppContext, parts: Partial<AuthRuntime>): void {
  runtimes.set(app, { ...authRuntime(app), ...parts });
}
