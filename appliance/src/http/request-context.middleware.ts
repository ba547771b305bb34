import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Middleware } from 'koa';

/** Strips the IPv4-mapped IPv6 prefix so `::ffff:127.0.0.1` compares equal to `127.0.0.1`. */
export function normaliseIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/**
 * Resolves the client IP: the socket peer, unless that peer is a trusted proxy (Caddy
 * on loopback), in which case the last X-Forwarded-For hop — the one Caddy appended —
 * is used. A forwarding header from anyone else is ignored: it is forgeable.
 */
export function resolveClientIp(peer: string | undefined, xff: string | undefined, trusted: readonly string[]): string {
  const p = normaliseIp(peer);
  if (!xff || !trusted.includes(p)) return p;
  const hops = xff.split(',').map((h) => normaliseIp(h.trim())).filter((h) => isIP(h) !== 0);
  return hops.at(-1) ?? p;
}

/** Gives every request an id (echoed as X-Request-Id) and its trustworthy client IP. */
export function requestContext(trustedProxies: readonly string[]): Middleware {
  // Not async: nothing to do after next(), so no extra promise per request.
  return (ctx, next) => {
    const requestId = randomUUID();
    ctx.state.requestId = requestId;
    ctx.res.setHeader('X-Request-Id', requestId);
    const xff = ctx.req.headers['x-forwarded-for'];
    ctx.state.clientIp = resolveClientIp(ctx.req.socket.remoteAddress, typeof xff === 'string' && xff ? xff : undefined, trustedProxies);
    return next();
  };
}
