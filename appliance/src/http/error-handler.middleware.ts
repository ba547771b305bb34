import type { Middleware } from 'koa';
import type { Logger } from '../logging/logger.js';
import { statusError, toPublicError } from './errors.js';

/**
 * The one JSON error handler: a stable English `code`, a French `message`, the
 * request id — never a stack trace, a path or an internal message. Unmatched routes
 * become the same 404 body. 5xx are logged with their stack; 4xx at debug level.
 */
export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw statusError(404);
      if (ctx.status === 405 && !ctx.body) throw statusError(405);
    } catch (err) {
      const pub = toPublicError(err);
      if (pub.status >= 500) {
        logger.error({ err, requestId: ctx.state.requestId, method: ctx.method, route: ctx.state.route }, 'request failed');
      } else {
        logger.debug({ code: pub.code, requestId: ctx.state.requestId }, 'request refused');
      }
      ctx.status = pub.status;
      for (const [k, v] of Object.entries(pub.headers)) ctx.set(k, v);
      ctx.type = 'application/json';
      const body: Record<string, unknown> = { code: pub.code, message: pub.message, requestId: ctx.state.requestId };
      if (pub.details !== undefined) body.details = pub.details;
      ctx.body = { error: body };
      // Koa would otherwise emit the error again on the app.
    }
  };
}
