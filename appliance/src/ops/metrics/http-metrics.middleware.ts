import type { Middleware } from 'koa';
import { httpDuration, httpRequests, httpServerErrors, statusClass } from './metrics.js';
import type { RequestStatsRecorder } from './request-stats.js';

/** Methods that get their own label value; anything else is `OTHER` (bounded cardinality). */
const METHOD_LABELS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Records rate, latency and 5xx per route (the read-only switch's deliberate 503s
 * are in the request counter but not counted as server errors). The label is the router's matched pattern
 * (`/api/pharmacies/:id`), never the raw path, so cardinality stays bounded; requests
 * no route matched are `static` (the UI) or `unmatched` (404s). Outermost middleware,
 * so it sees the final status set by the error handler.
 */
export function httpMetrics(stats: RequestStatsRecorder): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const matched = (ctx as unknown as { _matchedRoute?: string | RegExp })._matchedRoute;
      const { status, method: verb } = ctx;
      const route = typeof matched === 'string' ? matched : status === 404 ? 'unmatched' : verb === 'GET' || verb === 'HEAD' ? 'static' : 'unmatched';
      const method = METHOD_LABELS.has(verb) ? verb : 'OTHER';
      httpRequests.inc({ method, route, status_class: statusClass(status) });
      httpDuration.observe({ method, route }, seconds);
      // The read-only switch's 503s are deliberate: they must not page anyone as a 5xx burst.
      const fault = status >= 500 && ctx.response.get('X-Officine-Read-Only') !== '1';
      if (fault) httpServerErrors.inc({ route });
      stats.request(fault);
    }
  };
}
