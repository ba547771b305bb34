import type { Middleware } from 'koa';
import helmet from 'koa-helmet';

/** Paths that serve the browser UI (HTML and its hashed assets); everything else is API-like. */
export function isUiPath(path: string): boolean {
  return path === '/' || path.startsWith('/assets/') || path === '/index.html' || path.startsWith('/app/');
}

const common = {
  strictTransportSecurity: { maxAge: 63072000, includeSubDomains: true, preload: false },
  referrerPolicy: { policy: 'no-referrer' as const },
  crossOriginResourcePolicy: { policy: 'same-origin' as const },
  crossOriginOpenerPolicy: { policy: 'same-origin' as const },
  xFrameOptions: { action: 'deny' as const },
  xPoweredBy: false,
};

/** API responses: nothing may be loaded or framed. */
const apiHeaders = helmet({
  ...common,
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
  },
});

/** UI responses: only our own origin, no inline script or style anywhere. */
const uiHeaders = helmet({
  ...common,
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
});

/**
 * Security headers on every response, errors included (set before the handler runs,
 * so a thrown error keeps them). CSP depends on whether the path is UI or API.
 */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    const mw = isUiPath(ctx.path) ? uiHeaders : apiHeaders;
    await mw(ctx, async () => {
      ctx.remove('X-Powered-By');
      await next();
    });
  };
}
