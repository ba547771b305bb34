import type { Router } from '@koa/router';
import { z } from 'zod';
import type { AppContext } from '../http/app-context.js';
import type { AuditLogPage, AuditVerification } from './audit.api.js';
import { defineRoute, requestActor } from '../http/route.js';
import { AuditRepository } from './audit.repository.js';
import { recordAudit, verifyAuditChain } from './audit.service.js';

/**
 * The super-admin's view of the audit log: pages of entries (newest first, keyset
 * on id) and the hash-chain verification the console runs as `appliance audit verify`.
 * Hashes are not sent: the chain is checked on the server.
 */
export function registerAuditRoutes(router: Router, app: AppContext): void {
  defineRoute(router, app, {
    method: 'GET',
    path: '/api/admin/audit',
    permission: 'ops.admin',
    tenant: false,
    query: z.object({
      before: z.string().regex(/^\d{1,18}$/).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
      action: z.string().trim().regex(/^[a-z_.]{1,64}$/).optional(),
    }),
    summary: 'Audit log entries, newest first (keyset: ?before=<id>).',
    handler: async (_ctx, { query }): Promise<AuditLogPage> => {
      const rows = await new AuditRepository(app.db.manager).listAll(query.before, query.limit, query.action);
      return { entries: rows.map(({ prevHash: _p, hash: _h, ...r }) => r) };
    },
  });

  defineRoute(router, app, {
    method: 'POST',
    path: '/api/admin/audit/verify',
    permission: 'ops.admin',
    tenant: false,
    summary: 'Recomputes the whole hash chain; a broken chain is itself audited as an alert.',
    handler: async (ctx): Promise<AuditVerification> => {
      const v = await verifyAuditChain(app.db);
      await recordAudit(
        app.db,
        { ...requestActor(ctx), action: v.ok ? 'audit.verified' : 'audit.tampering_detected', level: v.ok ? 'info' : 'alert', details: { rows: v.rows, problems: v.problems.slice(0, 10).map((p) => ({ id: p.id, kind: p.kind })) } },
        app.clock.now(),
      );
      return v;
    },
  });
}
