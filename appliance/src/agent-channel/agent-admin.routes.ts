import type { Context } from 'koa';
import type { Router } from '@koa/router';
import { z } from 'zod';
import type { AppContext } from '../http/app-context.js';
import { AppError } from '../http/errors.js';
import { agentChannelService } from './agent-channel.factory.js';

/** The caller as the identity module will put it on ctx.state.user (only what these routes need). */
export interface AgentAdminPrincipal {
  id: string;
  role: string;
  pharmacyId: string | null;
}

const uuid = z.string().uuid();

/**
 * Allows a pharmacy admin of that pharmacy, or a super-admin; refuses everyone else.
 * Until the identity module sets ctx.state.user, every call is refused (fail closed).
 */
export function requireAgentAdmin(ctx: Context, pharmacyId: string): AgentAdminPrincipal {
  if (!uuid.safeParse(pharmacyId).success) throw new AppError(404, 'not_found', 'Ressource introuvable.');
  const user = (ctx.state as { user?: AgentAdminPrincipal }).user;
  if (!user) throw new AppError(401, 'unauthenticated', 'Authentification requise.');
  if (user.role === 'super_admin' || (user.role === 'pharmacy_admin' && user.pharmacyId === pharmacyId)) return user;
  throw new AppError(403, 'forbidden', 'Accès refusé.');
}

/**
 * Admin routes for agents: create a one-time enrolment code, list the pharmacy's
 * agents (with the last summary their sync sent), revoke one. Thin on purpose:
 * authentication comes from the identity module.
 */
export function registerAgentAdminRoutes(router: Router, app: AppContext): void {
  const base = '/api/pharmacies/:pharmacyId/agents';
  router.post(`${base}/enrolment-codes`, async (ctx) => {
    const user = requireAgentAdmin(ctx, ctx.params.pharmacyId!);
    const { code, expiresAt } = await agentChannelService(app).createEnrolmentCode(ctx.params.pharmacyId!, user.id);
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { code, expiresAt: expiresAt.toISOString() };
  });

  router.get(base, async (ctx) => {
    requireAgentAdmin(ctx, ctx.params.pharmacyId!);
    ctx.body = { agents: await agentChannelService(app).list(ctx.params.pharmacyId!) };
  });

  router.post(`${base}/:agentId/revoke`, async (ctx) => {
    const user = requireAgentAdmin(ctx, ctx.params.pharmacyId!);
    if (!uuid.safeParse(ctx.params.agentId).success) throw new AppError(404, 'agent_not_found', 'Agent introuvable.');
    await agentChannelService(app).revoke(ctx.params.pharmacyId!, ctx.params.agentId!, user.id);
    ctx.status = 204;
  });
}
