import type { Router } from '@koa/router';
import { z } from 'zod';
import { recordAudit } from '../audit/audit.service.js';
import type { AppContext } from '../http/app-context.js';
import { currentTenant, currentUser, defineRoute, requestActor } from '../http/route.js';
import { agentChannelService } from './agent-channel.factory.js';

const tenantParams = z.object({ pharmacyId: z.uuid() });
const agentParams = z.object({ pharmacyId: z.uuid(), agentId: z.uuid() });

/**
 * Admin routes for agents. A pharmacy admin, on their own pharmacy: create a
 * one-time enrolment code, list the agents (with the last summary their sync sent),
 * revoke one. A super-admin: revoke any agent (and the console does the rest).
 * Every change is audited.
 */
export function registerAgentAdminRoutes(router: Router, app: AppContext): void {
  const base = '/api/pharmacies/:pharmacyId/agents';

  defineRoute(router, app, {
    method: 'POST',
    path: `${base}/enrolment-codes`,
    permission: 'pharmacy.admin',
    tenant: true,
    params: tenantParams,
    status: 201,
    summary: 'Create a one-time agent enrolment code for the pharmacy.',
    handler: async (ctx) => {
      const { pharmacyId } = currentTenant(ctx);
      const { code, expiresAt } = await agentChannelService(app).createEnrolmentCode(pharmacyId, currentUser(ctx).id);
      await recordAudit(app.db, { ...requestActor(ctx), action: 'agent.enrolment_code.created', details: { expiresAt: expiresAt.toISOString() } });
      return { code, expiresAt: expiresAt.toISOString() };
    },
  });

  defineRoute(router, app, {
    method: 'GET',
    path: base,
    permission: 'pharmacy.admin',
    tenant: true,
    params: tenantParams,
    summary: 'List the pharmacy’s agents and the summary of their last sync.',
    handler: async (ctx) => ({ agents: await agentChannelService(app).list(currentTenant(ctx).pharmacyId) }),
  });

  defineRoute(router, app, {
    method: 'POST',
    path: `${base}/:agentId/revoke`,
    permission: 'pharmacy.admin',
    tenant: true,
    params: agentParams,
    summary: 'Revoke one of the pharmacy’s agents.',
    handler: async (ctx, { params }) => {
      await agentChannelService(app).revoke(currentTenant(ctx).pharmacyId, params.agentId, currentUser(ctx).id);
      await recordAudit(app.db, { ...requestActor(ctx), action: 'agent.revoked', targetType: 'agent', targetId: params.agentId });
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/admin/agents/:agentId/revoke',
    permission: 'ops.admin',
    tenant: false,
    params: z.object({ agentId: z.uuid() }),
    summary: 'Super-admin: revoke any agent.',
    handler: async (ctx, { params }) => {
      const pharmacyId = await agentChannelService(app).revokeById(params.agentId, currentUser(ctx).id);
      await recordAudit(app.db, { ...requestActor(ctx), pharmacyId, action: 'agent.revoked', level: 'warning', targetType: 'agent', targetId: params.agentId });
    },
  });
}
