import Koa from 'koa';
import { Router } from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { AppContext, RequestState } from './app-context.js';
import { errorHandler } from './error-handler.middleware.js';
import { requestContext } from './request-context.middleware.js';
import { securityHeaders } from './security-headers.middleware.js';
import { staticUi } from './static.middleware.js';
import { undeclaredRoutes } from './route.js';
import { PrefixRouter } from './prefix-router.js';
import { registerAnalyticsRoutes } from '../analytics/analytics.routes.js';
import { registerHealthRoutes } from '../ops/health.routes.js';
import { registerSecurityTxtRoutes } from '../ops/security-txt.routes.js';
import { registerAuthRoutes } from '../auth/auth.routes.js';
import { registerTenancyRoutes } from '../tenancy/tenancy.routes.js';
import { registerAuditRoutes } from '../audit/audit.routes.js';
import { registerBackupRoutes } from '../backup/backup.routes.js';
import { registerAgentChannelRoutes } from '../agent-channel/agent-channel.routes.js';
import { registerAgentAdminRoutes } from '../agent-channel/agent-admin.routes.js';
import { registerReadOnlyRoutes } from '../ops/read-only/read-only.routes.js';
import { registerStatusRoutes } from '../ops/status/status.routes.js';
import { registerUpgradeRoutes } from '../upgrade/upgrade.routes.js';
import { registerInvoiceRoutes } from '../invoices/invoices.routes.js';
import { readOnlyGuard } from '../ops/read-only/read-only.middleware.js';
import { httpMetrics } from '../ops/metrics/http-metrics.middleware.js';
import { opsRuntime, startOpsServices } from '../ops/ops-runtime.js';
import { registerGdprRoutes } from '../gdpr/gdpr.routes.js';
import { registerInvoiceArchiveRoutes } from '../invoices/invoice-archive.routes.js';

/** Methods whose requests are never given a body to parse. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A module's contribution to the HTTP API. */
export type RouteRegistrar = (router: Router, app: AppContext) => void;

/** Every module's routes, in one list: adding a module means adding it here. */
export const routeRegistrars: RouteRegistrar[] = [
  registerHealthRoutes,
  registerSecurityTxtRoutes,
  registerAuthRoutes,
  registerTenancyRoutes,
  registerAnalyticsRoutes,
  registerInvoiceRoutes,
  registerAuditRoutes,
  registerBackupRoutes,
  registerAgentChannelRoutes,
  registerAgentAdminRoutes,
  registerReadOnlyRoutes,
  registerStatusRoutes,
  registerUpgradeRoutes,
  registerGdprRoutes,
  registerInvoiceArchiveRoutes,
];

/**
 * The API router with every module's routes: what the app serves, and what the
 * route × role × tenant matrix test walks.
 */
export function buildRouter(app: AppContext, extraRoutes: RouteRegistrar[] = []): Router {
  const router = new PrefixRouter();
  for (const register of [...routeRegistrars, ...extraRoutes]) register(router, app);
  return router;
}

/** Background work an HTTP process needs (listeners, flushes): started before listening, stopped on close. */
export type AppService = (app: AppContext) => Promise<() => Promise<void>>;

/** Every module's background services, in one list. */
export const appServices: AppService[] = [(app) => startOpsServices(app)];

/** Options for tests and tools: another UI directory, extra routes. */
export interface AppOptions {
  webDir?: string;
  extraRoutes?: RouteRegistrar[];
}

/**
 * Assembles the Koa app: metrics → request context → security headers → error
 * handler → read-only guard → body limits → static UI → routes. The order matters:
 * metrics see the final status, headers and the error handler wrap everything so
 * even failures carry both, and the read-only guard refuses writes before their
 * body is read.
 */
export function createApp(app: AppContext, opts: AppOptions = {}): Koa<RequestState> {
  const koa = new Koa<RequestState>({ proxy: false });
  koa.silent = true; // errors are logged by our handler, not printed by Koa
  const router = buildRouter(app, opts.extraRoutes);
  const undeclared = undeclaredRoutes(router);
  if (undeclared.length) app.logger.warn({ undeclared }, 'routes registered without defineRoute (no declared permission)');

  const limit = `${app.config.BODY_LIMIT_KB}kb`;
  const ops = opsRuntime(app);
  koa.use(httpMetrics(ops.requestStats));
  koa.use(requestContext(app.config.TRUSTED_PROXIES));
  koa.use(securityHeaders());
  koa.use(errorHandler(app.logger));
  koa.use(readOnlyGuard(ops.readOnlyWatcher, app.config.READ_ONLY_RETRY_AFTER_S));
  const parseBody = bodyParser({ enableTypes: ['json', 'form'], jsonLimit: limit, formLimit: limit, jsonStrict: true });
  // Reads (GET, HEAD, OPTIONS) carry no body any route reads: skip the parser's per-request work.
  koa.use((ctx, next) => (BODYLESS_METHODS.has(ctx.method) ? next() : parseBody(ctx, next)));
  koa.use(staticUi(opts.webDir));
  koa.use(router.routes());
  koa.use(router.allowedMethods());
  return koa;
}
