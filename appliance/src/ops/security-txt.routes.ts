import type { Router } from '@koa/router';
import type { AppContext } from '../http/app-context.js';
import { defineRoute } from '../http/route.js';

/** Builds the RFC 9116 security.txt body from configuration. */
export function renderSecurityTxt(cfg: AppContext['config'], now: Date): string {
  const expires = cfg.SECURITY_TXT_EXPIRES
    ? new Date(cfg.SECURITY_TXT_EXPIRES)
    : new Date(now.getTime() + 180 * 24 * 3600 * 1000);
  const base = cfg.PUBLIC_URL.replace(/\/+$/, '');
  const lines = [
    `Contact: ${cfg.SECURITY_CONTACT}`,
    `Expires: ${expires.toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
    'Preferred-Languages: fr, en',
    `Canonical: ${base}/.well-known/security.txt`,
  ];
  lines.push(`Policy: ${cfg.SECURITY_POLICY_URL ?? `${base}/security-policy`}`);
  return lines.join('\n') + '\n';
}

/** `/.well-known/security.txt` per RFC 9116. */
export function registerSecurityTxtRoutes(router: Router, app: AppContext): void {
  defineRoute(router, app, {
    method: 'GET',
    path: '/.well-known/security.txt',
    permission: 'public',
    tenant: false,
    rateLimit: 'none',
    handler: (ctx) => {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = renderSecurityTxt(app.config, app.clock.now());
    },
  });
}
