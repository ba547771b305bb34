import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Middleware } from 'koa';
import serve from 'koa-static';

/** Where the built UI lives (web/build.mjs writes it). */
export function webDistDir(): string {
  return resolve(process.env.OFFICINE_WEB_DIR ?? join(process.cwd(), 'dist', 'web'));
}

/**
 * Serves the built UI: `/assets/*` with immutable long caching (names carry a content
 * hash), and index.html with `no-cache` for `/` and client-side routes under `/app/`.
 */
export function staticUi(dir = webDistDir()): Middleware {
  const assets = serve(dir, {
    index: false,
    gzip: false,
    brotli: false,
    hidden: false,
    setHeaders: (res) => res.setHeader('Cache-Control', 'public, max-age=31536000, immutable'),
  });
  const indexPath = join(dir, 'index.html');
  let indexHtml: Buffer | undefined;
  // Not async: API requests only pass through (no extra promise per request).
  return (ctx, next) => {
    const { method, path } = ctx;
    if (method !== 'GET' && method !== 'HEAD') return next();
    if (path.startsWith('/assets/')) return assets(ctx, next);
    if (path === '/' || path === '/index.html' || path.startsWith('/app/')) {
      if (!indexHtml) {
        if (!existsSync(indexPath)) return next();
        indexHtml = readFileSync(indexPath);
      }
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = indexHtml;
      return Promise.resolve();
    }
    return next();
  };
}
