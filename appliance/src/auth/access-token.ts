import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError } from '../http/errors.js';
import type { Role } from './user.entity.js';

/** Claims of an access token: who, which session, which role when issued. */
export interface AccessClaims {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  role: Role;
  iat: number;
  exp: number;
  jti: string;
}

/** The only algorithm accepted: tokens claiming anything else (`none`, RS256…) are refused. */
export const ALLOWED_ALGS = ['HS256'] as const;
export const ACCESS_TOKEN_TYP = 'at+jwt';
export const TOKEN_ISSUER = 'officine-appliance';
export const TOKEN_AUDIENCE = 'officine-api';

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');

const invalid = (detail: string) => new AppError(401, 'invalid_token', 'Session invalide, reconnectez-vous.', detail);

/**
 * Signs and verifies the short-lived access JWT (HS256). Written out rather than
 * pulled from a library so every check is visible: algorithm allowlist, `typ`,
 * signature (constant time), `iss`, `aud`, `exp`, `iat`.
 */
export class AccessTokenCodec {
  constructor(
    private readonly key: Buffer,
    private readonly clock: { now(): Date },
    private readonly ttlSeconds: number,
  ) {
    if (key.length < 32) throw new Error('JWT signing key must be at least 256 bits');
  }

  /** Issues a token for a session. */
  sign(sub: string, sid: string, role: Role): { token: string; expiresAt: Date } {
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const claims: AccessClaims = { iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, sub, sid, role, iat, exp: iat + this.ttlSeconds, jti: randomUUID() };
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: ACCESS_TOKEN_TYP }));
    const body = b64url(JSON.stringify(claims));
    const sig = createHmac('sha256', this.key).update(`${head}.${body}`).digest('base64url');
    return { token: `${head}.${body}.${sig}`, expiresAt: new Date(claims.exp * 1000) };
  }

  /** Verifies a token; any defect is a 401 `invalid_token` (expiry: `token_expired`). */
  verify(token: string): AccessClaims {
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) throw invalid('malformed token');
    const [head, body, sig] = parts as [string, string, string];
    let header: { alg?: unknown; typ?: unknown };
    let claims: Partial<AccessClaims>;
    try {
      header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalid('undecodable token');
    }
    if (!(ALLOWED_ALGS as readonly unknown[]).includes(header.alg)) throw invalid(`algorithm not allowed: ${String(header.alg)}`);
    if (header.typ !== ACCESS_TOKEN_TYP) throw invalid('wrong token type');
    const expected = createHmac('sha256', this.key).update(`${head}.${body}`).digest();
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('bad signature');
    if (claims.iss !== TOKEN_ISSUER || claims.aud !== TOKEN_AUDIENCE) throw invalid('wrong issuer or audience');
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || typeof claims.sub !== 'string' || typeof claims.sid !== 'string') {
      throw invalid('missing claims');
    }
    const now = this.clock.now().getTime() / 1000;
    if (claims.exp <= now) throw new AppError(401, 'token_expired', 'Session expirée, reconnectez-vous.', 'access token expired');
    if (claims.iat > now + 60) throw invalid('issued in the future');
    if (claims.exp - claims.iat > 900) throw invalid('lifetime above 15 minutes');
    return claims as AccessClaims;
  }
}
