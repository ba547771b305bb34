import Koa from 'koa';
import { Router } from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { AppContext, RequestState } from './app-context.js';
import { errorHandler } from './error-handler.middleware.js';
import { requestContext } from './request-context.middleware.js';
import { securityHeaders } from './security-headers.middleware.js';
import { staticUi } from './static.middleware.js';
import { undeclaredRoutes } from './route.js';
import { registerAnalyticsRoutes } from '../analytics/analytics.routes.js';
import { registerHealthRoutes } from '../ops/health.routes.js';
import { registerSecurityTxtRoutes } from '../ops/security-txt.routes.js';
import { registerAuthRoutes } from '../auth/auth.routes.js';
import { registerTenancyRoutes } from '../tenancy/tenancy.routes.js';
import { registerAuditRoutes } from '../audit/audit.routes.js';
import { registerBackupRoutes } from '../backup/backup.routes.js';
import { registerAgentChannelRoutes } from '../agent-channel/agent-channel.routes.js';
import { registerAgentAdminRoutes } from '../agent-channel/agent-admin.routes.js';

/** A module's contribution to the HTTP API. */
export type RouteRegistrar = (router: Router, app: AppContext) => void;

/** Every module's routes, in one list: adding a module means adding it here. */
export const routeRegistrars: RouteRegistrar[] = [
  registerHealthRoutes,
  registerSecurityTxtRoutes,
  registerAuthRoutes,
  registerTenancyRoutes,
  registerAnalyticsRoutes,
  registerAuditRoutes,
  registerBackupRoutes,
  registerAgentChannelRoutes,
  registerAgentAdminRoutes,
];

/**
 * The API router with every module's routes: what the app serves, and what the
 * route × role × tenant matrix test walks.
 */
export function buildRouter(app: AppContext, extraRoutes: RouteRegistrar[] = []): Router {
  const router = new Router();
  for (const register of [...routeRegistrars, ...extraRoutes]) register(router, app);
  return router;
}

/** Options for tests and tools: another UI directory, extra routes. */
export interface AppOptions {
  webDir?: string;
  extraRoutes?: RouteRegistrar[];
}

/**
 * Assembles the Koa app: request context → security headers → error handler →
 * body limits → static UI → routes. The order matters: headers and the error
 * handler wrap everything so even failures carry both.
 */
export function createApp(app: AppContext, opts: AppOptions = {}): Koa<RequestState> {
  const koa = new Koa<RequestState>({ proxy: false });
  koa.silent = true; // errors are logged by our handler, not printed by Koa
  const router = buildRouter(app, opts.extraRoutes);
  const undeclared = undeclaredRoutes(router);
  if (undeclared.length) app.logger.warn({ undeclared }, 'routes registered without defineRoute (no declared permission)');

  const limit = `${app.config.BODY_LIMIT_KB}kb`;
  koa.use(requestContext(app.config.TRUSTED_PROXIES));
  koa.use(securityHeaders());
  koa.use(errorHandler(app.logger));
  koa.use(bodyParser({ enableTypes: ['json', 'form'], jsonLimit: limit, formLimit: limit, jsonStrict: true }));
  koa.use(staticUi(opts.webDir));
  koa.use(router.routes());
  koa.use(router.allowedMethods());
  return koa;
}
