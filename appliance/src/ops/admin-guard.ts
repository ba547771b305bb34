import { timingSafeEqual, createHash } from 'node:crypto';
import type { Context } from 'koa';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';

/** Name of the interim break-glass token in the secrets directory (0600). */
export const OPS_ADMIN_TOKEN_SECRET = 'ops-admin-token';

/**
 * Who may call the operations admin API. Interim implementation until the identity
 * module's super-admin sessions (with CSRF) are merged: a bearer token read from the
 * 0600 secret `ops-admin-token`, which only root on the machine can read. No secret
 * file, no access. Returns the actor recorded in the audit trail.
 */
export async function requireSuperAdmin(ctx: Context, app: AppContext): Promise<string> {
  const header = ctx.get('Authorization');
  const m = /^Bearer ([A-Za-z0-9+/=_-]{16,})$/.exec(header);
  if (!m) throw new AppError(401, 'unauthenticated', 'Authentification requise.');
  let expected: Buffer;
  try {
    expected = app.secrets.get(OPS_ADMIN_TOKEN_SECRET);
  } catch {
    throw new AppError(403, 'forbidden', 'Accès refusé.', 'ops admin token not configured');
  }
  const digest = (b: Buffer | string) => createHash('sha256').update(b).digest();
  if (!timingSafeEqual(digest(m[1]!), digest(expected.toString('utf8').trim()))) {
    throw new AppError(403, 'forbidden', 'Accès refusé.', 'wrong ops admin token');
  }
  return 'token:ops-admin';
}
