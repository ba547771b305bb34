import type { Router } from '@koa/router';
import type { ParameterizedContext } from 'koa';
import type { z } from 'zod';
import { requireUser } from '../auth/auth.middleware.js';
import { authRuntime } from '../auth/auth-runtime.js';
import { roleHolds, rule, TOTP_REQUIRED_ROLES, type Permission } from '../auth/policy.js';
import type { AccountProfile } from '../auth/auth.api.js';
import type { AuditEntry } from '../audit/audit.service.js';
import { resolveTenant } from '../tenancy/tenant-context.middleware.js';
import type { AppContext, RequestState } from './app-context.js';
import { checkCsrf } from './csrf.middleware.js';
import { AppError, ValidationError } from './errors.js';

/** The signed-in caller, as loaded from the session on this request. */
export interface AuthUser extends AccountProfile {
  id: string;
  sessionId: string;
}

/** The pharmacy a tenant route acts on, and how the caller got in. */
export interface TenantContext {
  pharmacyId: string;
  groupementId: string;
  via: 'member' | 'grant' | 'break_glass';
  breakGlassId?: string;
}

/** Request state seen by route handlers. */
export interface ApiState extends RequestState {
  /** `METHOD /path/:pattern` of the matched route (for logs and audit). */
  route?: string;
  user?: AuthUser;
  tenant?: TenantContext;
}

/** The Koa context handlers receive. */
export type ApiContext = ParameterizedContext<ApiState> & { params: Record<string, string> };

/** HTTP methods a route may use. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Which limiter a route uses: `default` = per-user reads/writes for signed-in routes;
 * `public` = few calls per IP (login, reset, resend verification); `none` = health checks.
 */
export type RateLimitClass = 'default' | 'public' | 'none';

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** Everything a route declares: where, what permission, which tenant, what input shape. */
export interface RouteSpec<P extends Schema | undefined = Schema | undefined, Q extends Schema | undefined = Schema | undefined, B extends Schema | undefined = Schema | undefined> {
  method: HttpMethod;
  path: string;
  /** The permission from the policy (auth/policy.ts). Required: there is no default. */
  permission: Permission;
  /** true: the path carries `:pharmacyId` and the tenant-context check applies. Must match the permission's scope. */
  tenant: boolean;
  params?: P;
  query?: Q;
  body?: B;
  rateLimit?: RateLimitClass;
  /**
   * false only for machine routes that no browser calls and that carry no cookie: the
   * agent channel, authenticated by its own sealed envelopes. Default true.
   */
  csrf?: boolean;
  /** Reachable by a pharmacy/super admin who has not enrolled TOTP yet (enrolment, logout, whoami only). */
  allowDuringTotpEnrolment?: boolean;
  /** Status of a successful response with a body (default 200; no body gives 204). */
  status?: number;
  /** One line for people reading the route list. */
  summary?: string;
  handler(ctx: ApiContext, input: { params: Out<P>; query: Out<Q>; body: Out<B> }): unknown;
}

/** A declared route as seen by tools and the matrix test. */
export interface DeclaredRoute {
  method: HttpMethod;
  path: string;
  spec: RouteSpec;
}

const specsByLayer = new WeakMap<object, RouteSpec>();

function validate<S extends Schema | undefined>(schema: S, value: unknown, where: string): Out<S> {
  if (!schema) return undefined as Out<S>;
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new ValidationError(r.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })));
  }
  return r.data as Out<S>;
}

const permissionDenied = () => new AppError(403, 'forbidden', 'Accès refusé.', 'role does not hold the route permission');

/**
 * Declares one API route. The chain is always the same:
 * public rate limit → authentication (access cookie) → CSRF (non-GET) → TOTP
 * enrolment gate → permission (policy) → tenant context → per-user rate limit →
 * zod validation of params/query/body → handler. The handler's return value is
 * the JSON body (undefined → 204).
 */
export function defineRoute<P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined>(
  router: Router,
  app: AppContext,
  spec: RouteSpec<P, Q, B>,
): void {
  const r = rule(spec.permission);
  if (!r) throw new Error(`route ${spec.method} ${spec.path}: unknown permission ${String(spec.permission)}`);
  if (spec.tenant !== (r.scope === 'tenant')) {
    throw new Error(`route ${spec.method} ${spec.path}: tenant=${spec.tenant} contradicts permission ${spec.permission} (scope ${r.scope})`);
  }
  if (spec.tenant && !spec.path.includes('/:pharmacyId')) throw new Error(`tenant route ${spec.path} must carry :pharmacyId`);
  const label = `${spec.method} ${spec.path}`;
  const limitClass = spec.rateLimit ?? (r.scope === 'public' ? 'none' : 'default');

  const middleware = async (koaCtx: ParameterizedContext, next: () => Promise<unknown>) => {
    const ctx = koaCtx as unknown as ApiContext;
    ctx.state.route = label;
    ctx.set('Cache-Control', 'no-store');
    const rt = authRuntime(app);
    if (limitClass === 'public') await rt.limits.consume(rt.limits.publicPerIp, `${ctx.state.clientIp}|${spec.path}`);
    if (r.scope !== 'public') ctx.state.user = await requireUser(ctx, app);
    if (spec.csrf !== false) checkCsrf(ctx, rt.publicOrigins);
    const user = ctx.state.user;
    if (user) {
      if (TOTP_REQUIRED_ROLES.includes(user.role) && !user.totpEnabled && !spec.allowDuringTotpEnrolment) {
        throw new AppError(403, 'totp_enrolment_required', 'Activez d’abord la double authentification (TOTP) pour votre compte.', 'TOTP enrolment pending');
      }
      if (!roleHolds(user.role, spec.permission)) throw permissionDenied();
      if (spec.tenant) ctx.state.tenant = await resolveTenant(ctx, app, spec.permission, user);
      if (limitClass === 'default') {
        const write = ctx.method !== 'GET' && ctx.method !== 'HEAD';
        await rt.limits.consume(write ? rt.limits.userWrites : rt.limits.userReads, user.id);
      }
    }
    const input = {
      params: validate(spec.params as P, ctx.params, 'params'),
      query: validate(spec.query as Q, ctx.query, 'query'),
      body: validate(spec.body as B, (ctx.request as { body?: unknown }).body ?? {}, 'body'),
    };
    const result = await spec.handler(ctx, input);
    if (result !== undefined) {
      ctx.status = spec.status ?? 200;
      ctx.body = result;
    } else if (ctx.body === undefined || ctx.body === null) {
      ctx.status = 204;
    }
    void next;
  };
  const layer = router.register(spec.path, [spec.method], middleware as never);
  specsByLayer.set(layer, spec as unknown as RouteSpec);
}

/** Every route declared with defineRoute on this router (HEAD is implied by GET). */
export function declaredRoutes(router: Router): DeclaredRoute[] {
  const out: DeclaredRoute[] = [];
  for (const layer of router.stack) {
    const spec = specsByLayer.get(layer);
    if (spec) out.push({ method: spec.method, path: spec.path, spec });
  }
  return out;
}

/** Routes registered on the router without a declared permission: must be empty (the matrix test checks). */
export function undeclaredRoutes(router: Router): { methods: string[]; path: string }[] {
  return router.stack
    .filter((layer) => layer.methods.length > 0 && !specsByLayer.has(layer))
    .map((layer) => ({ methods: layer.methods, path: String(layer.path) }));
}

/** The signed-in caller (throws 401 on a public route with no session). */
export function currentUser(ctx: ApiContext): AuthUser {
  const u = ctx.state.user;
  if (!u) throw new AppError(401, 'unauthenticated', 'Authentification requise.');
  return u;
}

/** The pharmacy of a tenant route (always set on `tenant: true` routes). */
export function currentTenant(ctx: ApiContext): TenantContext {
  const t = ctx.state.tenant;
  if (!t) throw new Error('currentTenant() called on a route declared without tenant: true');
  return t;
}

/** Who did it, from where, on which pharmacy: spread into an audit entry (`{ ...requestActor(ctx), action }`). */
export function requestActor(ctx: ApiContext): Pick<AuditEntry, 'actorUserId' | 'actorRole' | 'pharmacyId' | 'ip' | 'requestId'> {
  return {
    actorUserId: ctx.state.user?.id ?? null,
    actorRole: ctx.state.user?.role ?? null,
    pharmacyId: ctx.state.tenant?.pharmacyId ?? null,
    ip: ctx.state.clientIp,
    requestId: ctx.state.requestId,
  };
}
