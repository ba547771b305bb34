import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { authRuntime } from '../../src/auth/auth-runtime.js';
import { AuthService } from '../../src/auth/auth.service.js';
import { COOKIES } from '../../src/auth/cookies.js';
import { hashPassword } from '../../src/auth/password.js';
import { SecretBox } from '../../src/auth/secret-box.js';
import type { Role } from '../../src/auth/user.entity.js';
import type { AppContext } from '../../src/http/app-context.js';
import type { TestApp } from './app.js';
import { notePersonalValues } from './log-scan.js';

/** A fresh groupement with `n` pharmacies (factories: no test assumes an empty table). */
export async function createGroupement(db: DataSource, n = 2): Promise<{ groupementId: string; pharmacyIds: string[] }> {
  const tag = randomBytes(4).toString('hex');
  const [g] = (await db.query(`INSERT INTO groupements (name) VALUES ($1) RETURNING id`, [`Groupement ${tag}`])) as { id: string }[];
  const pharmacyIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const finess = String(Math.floor(Math.random() * 1e9)).padStart(9, '0');
    const [p] = (await db.query(`INSERT INTO pharmacies (groupement_id, name, finess) VALUES ($1, $2, $3) RETURNING id`, [g!.id, `Pharmacie ${tag}-${i}`, finess])) as { id: string }[];
    pharmacyIds.push(p!.id);
  }
  return { groupementId: g!.id, pharmacyIds };
}

let cachedHash: Promise<string> | undefined;
/** The password every factory user gets unless told otherwise. */
export const TEST_PASSWORD = 'correct horse battery staple 42';

export interface TestUser {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  password: string;
  pharmacyId: string | null;
  groupementId: string | null;
  totpSecret?: string;
}

/**
 * Inserts an active account. `totpSecret` (base32) enrols TOTP directly, sealed
 * with the app's data key, as confirmed enrolment would.
 */
export async function createUser(
  app: AppContext,
  o: { role: Role; pharmacyId?: string | null; groupementId?: string | null; password?: string; totpSecret?: string; status?: 'pending' | 'active' | 'disabled'; email?: string; displayName?: string },
): Promise<TestUser> {
  const email = o.email ?? `${o.role}-${randomBytes(5).toString('hex')}@pharmacie.test`;
  const displayName = o.displayName ?? `Test ${o.role} ${randomBytes(3).toString('hex')}`;
  notePersonalValues(email, displayName);
  const hash = o.password ? await hashPassword(o.password) : await (cachedHash ??= hashPassword(TEST_PASSWORD));
  const sealed = o.totpSecret ? SecretBox.fromSecrets(app.secrets).seal(o.totpSecret, 'users.totp_secret') : null;
  const [u] = (await app.db.query(
    `INSERT INTO users (email, display_name, password_hash, role, pharmacy_id, groupement_id, status, email_verified_at, totp_secret_enc, totp_enabled_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now(), $8, CASE WHEN $8::text IS NULL THEN NULL ELSE now() END) RETURNING id`,
    [email, displayName, hash, o.role, o.pharmacyId ?? null, o.groupementId ?? null, o.status ?? 'active', sealed],
  )) as { id: string }[];
  return { id: u!.id, email, displayName, role: o.role, password: o.password ?? TEST_PASSWORD, pharmacyId: o.pharmacyId ?? null, groupementId: o.groupementId ?? null, ...(o.totpSecret ? { totpSecret: o.totpSecret } : {}) };
}

/** Headers of a signed-in browser: cookies, the CSRF header and our Origin. */
export interface SessionHeaders {
  sessionId: string;
  refreshToken: string;
  headers: Record<string, string>;
}

/** Opens a session for a user without going through login (fast; for matrix-style tests). */
export async function sessionFor(app: AppContext, userId: string): Promise<SessionHeaders> {
  const s = await new AuthService(app).issueSession(userId, { ip: '127.0.0.1', userAgent: 'tap', requestId: null });
  const csrf = randomBytes(32).toString('base64url');
  return {
    sessionId: s.sessionId,
    refreshToken: s.refreshToken,
    headers: {
      cookie: `${COOKIES.access}=${s.accessToken}; ${COOKIES.refresh}=${s.refreshToken}; ${COOKIES.csrf}=${csrf}`,
      'x-csrf-token': csrf,
      origin: authRuntime(app).publicOrigin,
    },
  };
}

/** Anonymous headers that still pass CSRF (for public POSTs such as login). */
export function anonymousHeaders(app: AppContext): Record<string, string> {
  const csrf = randomBytes(32).toString('base64url');
  return { cookie: `${COOKIES.csrf}=${csrf}`, 'x-csrf-token': csrf, origin: authRuntime(app).publicOrigin };
}

/** A minimal browser: keeps cookies from Set-Cookie, sends Origin and the CSRF token on every request. */
export class Browser {
  readonly cookies = new Map<string, string>();
  csrf: string | undefined;
  /** Every Set-Cookie header received, for attribute checks. */
  readonly setCookies: string[] = [];

  constructor(private readonly t: TestApp) {}

  async request(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    const method = init.method ?? 'GET';
    if (method !== 'GET' && !this.csrf) {
      const r = await this.request('/api/auth/csrf');
      this.csrf = ((await r.json()) as { csrfToken: string }).csrfToken;
    }
    const headers: Record<string, string> = { origin: authRuntime(this.t.app).publicOrigin, ...(init.headers ?? {}) };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (method !== 'GET' && this.csrf && !('x-csrf-token' in headers)) headers['x-csrf-token'] = this.csrf;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.t.request(path, { method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
    for (const sc of res.headers.getSetCookie()) {
      this.setCookies.push(sc);
      const [pair] = sc.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/.test(sc) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** Logs in through the API; returns the response (JSON body parsed into `.data`). */
  async login(email: string, password: string, extra: Record<string, string> = {}): Promise<{ res: Response; data: Record<string, unknown> }> {
    const res = await this.request('/api/auth/login', { method: 'POST', body: { email, password, ...extra } });
    const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.ok && typeof data.csrfToken === 'string') this.csrf = data.csrfToken;
    return { res, data };
  }
}
