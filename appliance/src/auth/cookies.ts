import type { Context } from 'koa';

/** Cookie names. The `__Host-` prefix pins them to this host, Path=/ and Secure: no subdomain can set or shadow them. */
export const COOKIES = {
  access: '__Host-officine-at',
  refresh: '__Host-officine-rt',
  csrf: '__Host-officine-csrf',
} as const;

/**
 * Sets a cookie the only way this appliance sets cookies: HttpOnly, Secure,
 * SameSite=Strict, Path=/. Written as a raw header because Koa refuses Secure
 * cookies on the plain-HTTP hop between Caddy and the app (TLS ends at Caddy).
 */
export function setCookie(ctx: Context, name: string, value: string, maxAgeSeconds: number): void {
  ctx.append('Set-Cookie', `${name}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; HttpOnly; Secure; SameSite=Strict`);
}

/** Expires a cookie (same attributes, so the browser matches it). */
export function clearCookie(ctx: Context, name: string): void {
  ctx.append('Set-Cookie', `${name}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Strict`);
}

/** Reads a cookie value from the request (values we set are base64url/JWT: no decoding needed). */
export function readCookie(ctx: Context, name: string): string | undefined {
  const header = ctx.get('Cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
